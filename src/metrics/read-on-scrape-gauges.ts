/** The gauges read from the application when Prometheus scrapes, rather than kept up to date. */
import type { OutboxBacklog } from "../events/log/outbox.repository";
import type { Metrics } from "./metrics";

export interface ScrapedState {
  readonly outboxBacklog: () => Promise<OutboxBacklog>;
  readonly activeSubscriptions: () => number;
}

export function registerReadOnScrapeGauges(metrics: Metrics, state: ScrapedState): void {
  metrics.onCollect(async () => {
    // Unknown, not zero, when the database cannot be read: an empty outbox would hide the outage.
    const backlog = await state.outboxBacklog().catch(() => undefined);
    metrics.outboxPending.set(backlog === undefined ? Number.NaN : backlog.pending);
    metrics.outboxOldestPendingSeconds.set(
      backlog === undefined ? Number.NaN : (backlog.oldestPendingAgeMs ?? 0) / 1000,
    );
    metrics.activeSubscriptions.set(state.activeSubscriptions());
  });
}
