/**
 * The port through which a trigger asks whether a task is the caller's. The
 * todos module answers it (TodoService has this shape); the composition root
 * hands it in, so the events module never imports todos.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";

export interface TaskOwnership {
  /** Asked inside the trigger's transaction, which appends the event only for an owned task. */
  isOwnedBy(userId: string, taskId: number, executor: Kysely<DatabaseSchema>): Promise<boolean>;
}
