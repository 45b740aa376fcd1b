/**
 * A subscription that resumes after the last sequence a client saw: it
 * replays the user's logged events after that sequence, oldest first, then
 * continues with live deliveries. The live feed is joined before the replay is
 * read, so an event that commits meanwhile arrives live; one that is both
 * replayed and delivered live is passed on once.
 */
import type { Kysely } from "kysely";
import { AppError, InvalidInputError } from "../../app-error";
import type { DatabaseSchema } from "../../db/schema";
import { ErrorCode } from "../../error-codes";
import type { OutboxRecord, OutboxRepository } from "../log/outbox.repository";
import type { TodoEventPayload } from "../todo-event";
import type { TodoEventFeed } from "./todo-event-feed";

/** What a subscriber receives: the payload and where it stands in the log. */
export interface SubscribedEvent {
  readonly payload: TodoEventPayload;
  /** Live deliveries came back from the broker; replayed ones carry their log status. */
  readonly status: "PENDING" | "PUBLISHED";
}

export class CursorExpiredError extends AppError {
  constructor(afterSequence: number, prunedThrough: number) {
    super(
      ErrorCode.CURSOR_EXPIRED,
      `afterSequence ${afterSequence} is older than the retained log (events up to ${prunedThrough} were pruned)`,
      { prunedThrough },
    );
  }
}

/** Replay reads the log in pages this size. */
const REPLAY_PAGE = 100;
/** Replayed sequences remembered for dropping their live copies; only the last ones can race. */
const REMEMBERED_SEQUENCES = 1000;

export class TodoEventSubscriptions {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly log: OutboxRepository,
    private readonly feed: TodoEventFeed,
  ) {}

  /** Live only without `afterSequence`; otherwise the replay first. */
  async subscribe(
    userId: string,
    afterSequence: number | null | undefined,
  ): Promise<AsyncIterableIterator<SubscribedEvent>> {
    if (afterSequence === null || afterSequence === undefined) return new LiveOnly(this.feed.subscribe(userId));
    if (!Number.isSafeInteger(afterSequence) || afterSequence < 0) {
      throw new InvalidInputError("afterSequence", "must be a non-negative integer");
    }
    const prunedThrough = await this.log.prunedThrough(this.db, userId);
    if (afterSequence < prunedThrough) throw new CursorExpiredError(afterSequence, prunedThrough);
    const live = this.feed.subscribe(userId);
    return new ReplayThenLive(live, (after) => this.log.replay(this.db, userId, after, REPLAY_PAGE), afterSequence);
  }
}

class LiveOnly implements AsyncIterableIterator<SubscribedEvent> {
  constructor(private readonly live: AsyncIterableIterator<TodoEventPayload>) {}

  async next(): Promise<IteratorResult<SubscribedEvent>> {
    const result = await this.live.next();
    return result.done === true ? result : { value: { payload: result.value, status: "PUBLISHED" }, done: false };
  }

  async return(): Promise<IteratorResult<SubscribedEvent>> {
    await this.live.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An iterator rather than an async generator: a generator suspended on the live feed could not
 * be ended by the client until the next event came, and would keep its subscription meanwhile.
 */
class ReplayThenLive implements AsyncIterableIterator<SubscribedEvent> {
  private readonly replayed: OutboxRecord[] = [];
  private readonly sent = new Set<number>();
  private replaying = true;
  private closed = false;

  constructor(
    private readonly live: AsyncIterableIterator<TodoEventPayload>,
    private readonly readAfter: (sequence: number) => Promise<OutboxRecord[]>,
    private cursor: number,
  ) {}

  async next(): Promise<IteratorResult<SubscribedEvent>> {
    while (!this.closed) {
      const record = this.replayed.shift();
      if (record !== undefined) return this.sendReplayed(record);
      if (this.replaying) {
        const page = await this.readAfter(this.cursor);
        this.replayed.push(...page);
        if (page.length < REPLAY_PAGE) this.replaying = false;
        continue;
      }
      const result = await this.live.next();
      if (result.done === true) return { value: undefined, done: true };
      // A live copy of an event the replay already sent (its delivery raced the replay).
      if (this.sent.has(result.value.sequence)) continue;
      return { value: { payload: result.value, status: "PUBLISHED" }, done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<SubscribedEvent>> {
    this.closed = true;
    await this.live.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private sendReplayed(record: OutboxRecord): IteratorResult<SubscribedEvent> {
    this.cursor = record.sequence;
    this.sent.add(record.sequence);
    if (this.sent.size > REMEMBERED_SEQUENCES) this.sent.delete(this.sent.values().next().value as number);
    const status = record.status === "PUBLISHED" ? "PUBLISHED" : "PENDING";
    return { value: { payload: record.event, status }, done: false };
  }
}
