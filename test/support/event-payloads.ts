/** Complete event payloads for tests, as the log would have numbered them. */
import { draftTodoEvent, type NewTodoEvent, type TodoEventPayload } from "../../src/events/todo-event";

export function todoEventPayload(input: NewTodoEvent, sequence = 1): TodoEventPayload {
  return { ...draftTodoEvent(input), sequence };
}
