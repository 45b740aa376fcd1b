/** Rules for client-triggered events; each violation names its field. */
import { InvalidInputError } from "../app-error";
import { assertValidIdempotencyKey } from "../shared/idempotency-key";
import { TODO_EVENT_FIELDS, type JsonObject } from "./todo-event";

export const ACTION_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
export const MAX_DETAILS_BYTES = 16 * 1024;
/** `details` itself is level 1; every object or array inside it adds one. */
export const MAX_DETAILS_DEPTH = 32;
/** Top-level keys `details` may not use: the event's own fields, identity above all. */
export const RESERVED_DETAILS_KEYS: readonly string[] = TODO_EVENT_FIELDS;

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
  const reserved = RESERVED_DETAILS_KEYS.find((key) => Object.hasOwn(details, key));
  if (reserved !== undefined) {
    throw new InvalidInputError(`input.details.${reserved}`, "is reserved: it is a field of the event itself");
  }
  // Before serialising: JSON.stringify recurses, and a few thousand levels overflow the stack.
  if (isNestedDeeperThan(details, MAX_DETAILS_DEPTH)) {
    throw new InvalidInputError("input.details", `must be nested at most ${MAX_DETAILS_DEPTH} levels deep`);
  }
  const serialised = JSON.stringify(details);
  if (Buffer.byteLength(serialised, "utf8") > MAX_DETAILS_BYTES) {
    throw new InvalidInputError("input.details", `must be at most ${MAX_DETAILS_BYTES} bytes when serialised`);
  }
  assertValidIdempotencyKey(request.idempotencyKey, "input.idempotencyKey");
  return serialised;
}

/**
 * Whether objects and arrays nest more than `maxDepth` levels in `value`, which is level 1 when it
 * is one. Walked with an explicit stack, so no nesting can overflow the call stack, and abandoned
 * at the first container found too deep (a cycle is, since it nests without end).
 */
export function isNestedDeeperThan(value: unknown, maxDepth: number): boolean {
  if (!isContainer(value)) return false;
  if (maxDepth < 1) return true;
  const pending: object[] = [value];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const current = pending.pop() as object;
    const depth = depths.pop() as number;
    for (const child of Array.isArray(current) ? (current as unknown[]) : Object.values(current)) {
      if (!isContainer(child)) continue;
      if (depth === maxDepth) return true;
      pending.push(child);
      depths.push(depth + 1);
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}
