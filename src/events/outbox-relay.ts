/**
 * Publishes pending outbox rows through the EventPublisher, at least once and
 * in order per user: a user's rows go one after another, different users'
 * rows in parallel. A failed row is retried with exponential backoff and
 * jitter, and holds back that user's later rows until it succeeds; rows are
 * never dropped.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../db/schema";
import type { Logger } from "../logging/logger";
import type { EventPublisher } from "./event-publisher";
import type { OutboxRecord, OutboxRepository } from "./outbox.repository";
import type { RelayLeadership } from "./relay-leadership";

export interface OutboxRelayOptions {
  readonly db: Kysely<DatabaseSchema>;
  readonly outbox: OutboxRepository;
  readonly publisher: EventPublisher;
  readonly leadership: RelayLeadership;
  readonly logger: Logger;
  readonly batchSize?: number;
  /** How many users' rows are published at the same time. */
  readonly concurrency?: number;
  /** Poll interval when idle; mutations also wake the relay through notify(). */
  readonly pollIntervalMs?: number;
  /** How often a standby instance tries to become the active relay. */
  readonly standbyIntervalMs?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
  readonly now?: () => Date;
}

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly standbyIntervalMs: number;
  private readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  private readonly random: () => number;
  private readonly now: () => Date;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private woken = false;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 200;
    this.concurrency = options.concurrency ?? 16;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.standbyIntervalMs = options.standbyIntervalMs ?? 2000;
    this.backoff = options.backoff ?? { baseMs: 250, maxMs: 30_000 };
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** New rows were committed: look now rather than at the next poll. */
  notify(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Lets the current batch finish, then releases leadership. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /**
   * One pass over the due pending rows. Returns how many were published.
   * Exposed for tests and benchmarks; the background loop calls it repeatedly.
   */
  async drainOnce(): Promise<number> {
    const rows = await this.options.outbox.due(this.options.db, this.batchSize, this.now());
    if (rows.length === 0) return 0;
    const byUser = new Map<string, OutboxRecord[]>();
    for (const row of rows) {
      const queue = byUser.get(row.event.user_id);
      if (queue === undefined) byUser.set(row.event.user_id, [row]);
      else queue.push(row);
    }
    const queues = [...byUser.values()];
    let published = 0;
    const worker = async (): Promise<void> => {
      for (let queue = queues.shift(); queue !== undefined; queue = queues.shift()) {
        published += await this.publishInOrder(queue);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queues.length) }, worker));
    return published;
  }

  private async publishInOrder(queue: readonly OutboxRecord[]): Promise<number> {
    let published = 0;
    for (const record of queue) {
      const outcome = await this.options.publisher.publish(record.event, {
        traceparent: record.traceparent ?? undefined,
      });
      if (!outcome.ok) {
        const delayMs = this.retryDelayMs(record.attempts + 1);
        await this.options.outbox.markFailed(
          this.options.db,
          record.id,
          `${outcome.reason}: ${outcome.detail}`,
          new Date(this.now().getTime() + delayMs),
        );
        this.options.logger.warn(
          {
            eventId: record.event.event_id,
            userId: record.event.user_id,
            attempts: record.attempts + 1,
            retryInMs: delayMs,
            reason: outcome.reason,
          },
          "outbox publish failed; will retry",
        );
        // The user's later rows wait: publishing them now would reorder the user's events.
        return published;
      }
      await this.options.outbox.markPublished(this.options.db, [record.id], this.now());
      published += 1;
    }
    return published;
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  private retryDelayMs(attempt: number): number {
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async loop(): Promise<void> {
    const log = this.options.logger.child({ component: "outbox-relay" });
    let leading = false;
    while (!this.stopping) {
      const leader = await this.options.leadership.acquire();
      if (leader !== leading) log.info({ leader }, leader ? "outbox relay active" : "outbox relay on standby");
      leading = leader;
      if (!leader) {
        await this.sleep(this.standbyIntervalMs);
        continue;
      }
      this.woken = false;
      let published = 0;
      try {
        published = await this.drainOnce();
      } catch (error) {
        // The database is unreachable or restarting: keep the rows, try again later.
        log.error({ err: error }, "outbox relay pass failed");
        await this.sleep(this.backoff.maxMs / 10);
        continue;
      }
      if (published === 0 && !this.woken) await this.sleep(this.pollIntervalMs);
    }
    await this.options.leadership.release();
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = undefined;
  }
}
