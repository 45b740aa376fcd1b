/** What each todo mutation tells consumers in `details` (snake_case, like the rest of the payload). */
import type { JsonObject } from "../events/todo-event";
import type { Todo } from "./todo";

export function createdDetails(todo: Todo): JsonObject {
  return {
    title: todo.title,
    description: todo.description,
    priority: todo.priority,
    due_at: todo.dueAt?.toISOString() ?? null,
    completed: todo.completed,
  };
}

/** Only the fields whose value changed. */
export function changedDetails(before: Todo, after: Todo): JsonObject {
  const changes: JsonObject = {};
  if (before.title !== after.title) changes.title = after.title;
  if (before.description !== after.description) changes.description = after.description;
  if (before.priority !== after.priority) changes.priority = after.priority;
  if (before.dueAt?.getTime() !== after.dueAt?.getTime()) changes.due_at = after.dueAt?.toISOString() ?? null;
  if (before.completed !== after.completed) changes.completed = after.completed;
  return changes;
}
