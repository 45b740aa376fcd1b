/**
 * The port through which a change appends its events to the log, inside the
 * change's own transaction. The todos module depends on this and on the event
 * contract only; the outbox repository implements it.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";
import type { TodoEventPayload } from "../todo-event";

export interface EventLog {
  /**
   * Serialises one user's writing transactions until commit: the order their
   * events commit in is then the order of their log ids, which the relay
   * publishes in. It also keeps a user's read-modify-write of a todo from
   * interleaving with another of theirs.
   */
  serialiseUserWrites(trx: Kysely<DatabaseSchema>, userId: string): Promise<void>;
  append(trx: Kysely<DatabaseSchema>, event: TodoEventPayload, traceparent?: string): Promise<void>;
}
