/** Rules for client-triggered events (DESIGN.md §3); each violation names its field. */
import { InvalidInputError } from "../app-error";
import type { JsonObject } from "./todo-event";

export const ACTION_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
export const MAX_DETAILS_BYTES = 16 * 1024;
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface TriggerRequest {
  readonly taskId: number;
  readonly action: string;
  readonly details?: JsonObject | null;
  readonly idempotencyKey?: string | null;
}

/** Returns the serialised details (measured once, reused for the idempotency fingerprint). */
export function assertValidTriggerRequest(request: TriggerRequest): string {
  if (!Number.isSafeInteger(request.taskId) || request.taskId < 1) {
    throw new InvalidInputError("taskId", "must be a positive integer");
  }
  if (!ACTION_PATTERN.test(request.action)) {
    throw new InvalidInputError("input.action", `must match ${ACTION_PATTERN.source}`);
  }
  const details = request.details ?? {};
  if (typeof details !== "object" || Array.isArray(details)) {
    throw new InvalidInputError("input.details", "must be a JSON object");
  }
  const serialised = JSON.stringify(details);
  if (Buffer.byteLength(serialised, "utf8") > MAX_DETAILS_BYTES) {
    throw new InvalidInputError("input.details", `must be at most ${MAX_DETAILS_BYTES} bytes when serialised`);
  }
  const key = request.idempotencyKey;
  if (key !== undefined && key !== null && !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new InvalidInputError("input.idempotencyKey", `must match ${IDEMPOTENCY_KEY_PATTERN.source}`);
  }
  return serialised;
}
