/**
 * Publishes pending outbox rows through the EventPublisher, at least once and
 * in order per user. Each round publishes the first pending row of every user
 * as bulk publishes, so a user's next row leaves only after the previous one
 * was acknowledged, while many users share one round trip. A failed row is
 * retried with exponential backoff and jitter, and holds back that user's
 * later rows until it succeeds; rows are never dropped.
 */
import type { Kysely } from "kysely";
import { databaseFaultOf } from "../../db/errors";
import type { DatabaseSchema } from "../../db/schema";
import type { Logger } from "../../logging/logger";
import type { EventPublisher, PublishOutcome } from "../event-publisher";
import type { OutboxRecord, OutboxRepository } from "./outbox.repository";
import type { RelayLeadership } from "./relay-leadership";
import type { EventRetention } from "./retention";

/** The relay's timings and sizes that configuration (or a test) sets. */
export interface OutboxRelayTuning {
  /** Most events in one bulk publish (each of a different user). */
  readonly maxBulkEntries: number;
  /** Poll interval when idle; mutations also wake the relay through notify(). */
  readonly pollIntervalMs: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** How often a standby instance tries to become the active relay. */
  readonly standbyIntervalMs?: number;
}

export interface OutboxRelayOptions extends OutboxRelayTuning {
  readonly db: Kysely<DatabaseSchema>;
  /** Pruned by whichever instance relays, between passes. */
  readonly retention?: EventRetention;
  readonly outbox: OutboxRepository;
  readonly publisher: EventPublisher;
  readonly leadership: RelayLeadership;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly now?: () => Date;
}

/** Pending rows read per pass. */
const BATCH_SIZE = 500;
/** How many bulk publishes of a round are in flight at the same time. */
const CONCURRENCY = 4;
const STANDBY_INTERVAL_MS = 2000;

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly maxBulkEntries: number;
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
    this.batchSize = BATCH_SIZE;
    this.maxBulkEntries = options.maxBulkEntries;
    this.concurrency = CONCURRENCY;
    this.pollIntervalMs = options.pollIntervalMs;
    this.standbyIntervalMs = options.standbyIntervalMs ?? STANDBY_INTERVAL_MS;
    this.backoff = options.backoff;
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
    let queues = queuesByUser(rows);
    let published = 0;
    let round = 0;
    while (queues.length > 0) {
      // Rows read for later rounds may have changed meanwhile: a queued trigger that timed out
      // marked its row FAILED, and the client was told; such a row is passed over.
      if (round++ > 0) queues = await this.withoutSettledHeads(queues);
      if (queues.length === 0) break;
      const heads = queues.map((queue) => queue.head());
      const outcomes = await this.publishAll(heads);
      const publishedIds: number[] = [];
      const next: UserQueue[] = [];
      for (const [index, queue] of queues.entries()) {
        const head = heads[index];
        const outcome = outcomes[index];
        if (outcome.ok) {
          publishedIds.push(head.id);
          if (queue.advance()) next.push(queue);
        } else {
          // The user's later rows wait: publishing them now would reorder the user's events.
          await this.scheduleRetry(head, outcome);
        }
      }
      await this.options.outbox.markPublished(this.options.db, publishedIds, this.now());
      published += publishedIds.length;
      queues = next;
    }
    return published;
  }

  private async withoutSettledHeads(queues: UserQueue[]): Promise<UserQueue[]> {
    const pending = await this.options.outbox.stillPending(
      this.options.db,
      queues.map((queue) => queue.head().id),
    );
    return queues.filter((queue) => {
      while (!pending.has(queue.head().id)) {
        if (!queue.advance()) return false;
        // A later row of the same user was read in the same pass; it is still due.
        pending.add(queue.head().id);
      }
      return true;
    });
  }

  /** Outcomes in the order of `records`, published in bulk requests of at most maxBulkEntries. */
  private async publishAll(records: readonly OutboxRecord[]): Promise<PublishOutcome[]> {
    const chunks: OutboxRecord[][] = [];
    for (let start = 0; start < records.length; start += this.maxBulkEntries) {
      chunks.push(records.slice(start, start + this.maxBulkEntries));
    }
    const results: PublishOutcome[][] = new Array<PublishOutcome[]>(chunks.length);
    let nextChunk = 0;
    const worker = async (): Promise<void> => {
      for (let index = nextChunk++; index < chunks.length; index = nextChunk++) {
        const chunk = chunks[index];
        results[index] = await this.options.publisher.publishBatch(
          chunk.map((record) => ({
            event: record.event,
            options: record.traceparent === null ? {} : { traceparent: record.traceparent },
          })),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    return results.flat();
  }

  private async scheduleRetry(record: OutboxRecord, outcome: PublishOutcome & { ok: false }): Promise<void> {
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
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  private retryDelayMs(attempt: number): number {
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async loop(): Promise<void> {
    const log = this.options.logger.child({ component: "outbox-relay" });
    let leading = false;
    let failedPasses = 0;
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
        await this.options.retention?.runIfDue();
        failedPasses = 0;
      } catch (error) {
        // The database is unreachable, restarting or full: keep the rows, try again later. A pass
        // that published but could not mark republishes on the next one (same event ids), so the
        // pauses grow while the fault lasts instead of repeating every few seconds.
        failedPasses += 1;
        const fault = databaseFaultOf(error);
        if (fault === undefined) log.error({ err: error }, "outbox relay pass failed");
        else log.warn({ reason: fault, detail: causeMessage(error), failedPasses }, "outbox relay pass failed");
        await this.sleep(this.retryDelayMs(failedPasses));
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

/** One user's due rows in publish order, consumed from the front. */
class UserQueue {
  private position = 0;

  constructor(private readonly rows: OutboxRecord[]) {}

  head(): OutboxRecord {
    return this.rows[this.position];
  }

  /** Moves past the head; false when nothing is left. */
  advance(): boolean {
    this.position += 1;
    return this.position < this.rows.length;
  }
}

function queuesByUser(rows: readonly OutboxRecord[]): UserQueue[] {
  const byUser = new Map<string, OutboxRecord[]>();
  for (const row of rows) {
    const queue = byUser.get(row.event.user_id);
    if (queue === undefined) byUser.set(row.event.user_id, [row]);
    else queue.push(row);
  }
  return [...byUser.values()].map((userRows) => new UserQueue(userRows));
}

/** The driver's own words behind a database fault, without its stack. */
function causeMessage(error: unknown): string | undefined {
  const message = (error as { cause?: { message?: unknown } }).cause?.message;
  return typeof message === "string" ? message : undefined;
}
