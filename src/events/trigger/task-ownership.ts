/**
 * The port through which a trigger asks whether a task is the caller's. The
 * todos module answers it (TodoService has this shape); the composition root
 * hands it in, so the events module never imports todos.
 */
export interface TaskOwnership {
  isOwnedBy(userId: string, taskId: number): Promise<boolean>;
}
