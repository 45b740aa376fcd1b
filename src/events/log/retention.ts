/**
 * Keeps the log bounded: the relay leader prunes published and failed events
 * older than the retention, and expired idempotency keys, in small batches
 * with a pause between them, so the pruning never holds up mutations. A user's
 * latest sequence lives in its own table and survives, so numbering never
 * restarts.
 */
import type { Logger } from "../../logging/logger";

/** Removes up to `limit` expired rows of one kind; the number removed. */
export type PruneStep = (now: Date, limit: number) => Promise<number>;

export interface EventRetentionOptions {
  readonly steps: readonly PruneStep[];
  /** How often a pass may run; short retentions (a soak's) prune more often. */
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** Rows removed per statement: small, so each delete holds its locks only briefly. */
const BATCH = 500;
/** At most this many batches per pass; the rest waits for the next pass. */
const MAX_BATCHES_PER_PASS = 20;
const PAUSE_BETWEEN_BATCHES_MS = 10;

export class EventRetention {
  private lastRunAt = 0;
  private readonly now: () => Date;

  constructor(private readonly options: EventRetentionOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Runs a pass when the interval has passed since the last one; the number of rows removed. */
  async runIfDue(): Promise<number> {
    const now = this.now();
    if (now.getTime() - this.lastRunAt < this.options.intervalMs) return 0;
    this.lastRunAt = now.getTime();
    return this.runOnce(now);
  }

  async runOnce(now: Date = this.now()): Promise<number> {
    let removed = 0;
    for (const step of this.options.steps) {
      for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch += 1) {
        const count = await step(now, BATCH);
        removed += count;
        if (count < BATCH) break;
        await new Promise((resolve) => setTimeout(resolve, PAUSE_BETWEEN_BATCHES_MS));
      }
    }
    if (removed > 0) this.options.logger.debug({ removed }, "event log pruned");
    return removed;
  }
}

/** Prune passes a tenth of the retention apart, at most once a minute and at least once a second. */
export function retentionIntervalMs(retentionMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.round(retentionMs / 10)));
}
