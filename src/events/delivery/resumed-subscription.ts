/**
 * A subscription that resumes after the last sequence a client saw: it
 * replays the user's logged events after that sequence, oldest first, then
 * continues with live deliveries. The live feed is joined before the replay is
 * read, so an event that commits meanwhile arrives live; one that is both
 * replayed and delivered live is passed on once, and so is one the client had
 * already seen before it resumed.
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
/** Gaps remembered (failed triggers a retry may still publish); gaps are rare, so few are kept. */
const REMEMBERED_GAPS = 1000;

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
  /** Sequences the replay passed over (FAILED rows, never published): a retry may still publish one. */
  private readonly gaps = new Set<number>();
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
      if (this.alreadySent(result.value.sequence)) continue;
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

  /**
   * The client has every sequence up to the cursor (what it resumed after, then the replay) but
   * the gaps. A live copy of one of those raced the replay, or comes from an instance whose
   * consumer lags behind: it is dropped. Events of other producers carry no sequence (0).
   */
  private alreadySent(sequence: number): boolean {
    if (sequence === 0 || sequence > this.cursor) return false;
    return !this.gaps.delete(sequence);
  }

  private sendReplayed(record: OutboxRecord): IteratorResult<SubscribedEvent> {
    for (let missing = this.cursor + 1; missing < record.sequence && this.gaps.size < REMEMBERED_GAPS; missing++) {
      this.gaps.add(missing);
    }
    this.cursor = record.sequence;
    const status = record.status === "PUBLISHED" ? "PUBLISHED" : "PENDING";
    return { value: { payload: record.event, status }, done: false };
  }
}
