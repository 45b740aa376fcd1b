/**
 * The port through which a change appends its events to the log, inside the
 * change's own transaction. The todos module depends on this and on the event
 * contract only; the outbox repository implements it.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";
import type { TodoEventDraft, TodoEventPayload } from "../todo-event";

export interface AppendOptions {
  /** W3C trace context of the request that caused the event. */
  readonly traceparent?: string;
  /** Set by a trigger that publishes the event itself: the relay leaves the row alone until then. */
  readonly claimUntil?: Date;
}

export interface AppendedEvent {
  /** The row's id in the log (global append order). */
  readonly id: number;
  /** The payload as it will be published, with the user's next sequence. */
  readonly payload: TodoEventPayload;
}

export interface EventLog {
  /**
   * Serialises one user's writing transactions until commit: the order their
   * events commit in is then the order of their log ids, which the relay
   * publishes in. It also keeps a user's read-modify-write of a todo from
   * interleaving with another of theirs.
   */
  serialiseUserWrites(trx: Kysely<DatabaseSchema>, userId: string): Promise<void>;
  /** Gives the event the user's next sequence and appends it, PENDING, in the caller's transaction. */
  append(trx: Kysely<DatabaseSchema>, draft: TodoEventDraft, options?: AppendOptions): Promise<AppendedEvent>;
}
