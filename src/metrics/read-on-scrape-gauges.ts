/**
 * The gauges read from the application when Prometheus scrapes, rather than kept up to date,
 * and the counters kept by parts that know nothing of metrics (the log destination).
 */
import type { OutboxBacklog } from "../events/log/outbox.repository";
import type { Metrics } from "./metrics";

export interface ScrapedState {
  readonly outboxBacklog: () => Promise<OutboxBacklog>;
  readonly activeSubscriptions: () => number;
  /** Totals so far by reason; the counter follows them. */
  readonly logLinesDropped?: () => Readonly<Record<string, number>>;
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
  const readDrops = state.logLinesDropped;
  if (readDrops === undefined) return;
  const counted: Record<string, number> = {};
  metrics.onCollect(() => {
    for (const [reason, total] of Object.entries(readDrops())) {
      const increase = total - (counted[reason] ?? 0);
      // Zero increments too, so every reason is a series from the first scrape.
      if (increase >= 0) metrics.logLinesDropped.inc({ reason }, increase);
      counted[reason] = total;
    }
  });
}
