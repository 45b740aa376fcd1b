/** The idempotency keys clients send with createTodo and triggerTodoEvent. */
import { InvalidInputError } from "../app-error";

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export function assertValidIdempotencyKey(key: string | null | undefined, field: string): void {
  if (key !== undefined && key !== null && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new InvalidInputError(field, `must match ${IDEMPOTENCY_KEY_PATTERN.source}`);
  }
}
