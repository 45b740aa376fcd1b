/**
 * Reads a todo event out of a CloudEvent that Dapr delivers. Events written by
 * this API carry the full contract; the seed's Python publishers send only
 * action/task_id/user_id/details, so event_id and occurred_at fall back to
 * the envelope's id and time.
 */
import { parseJsonOrUndefined } from "../../shared/json";
import { MAX_USER_ID_LENGTH } from "../../shared/user-id";
import { EVENT_SCHEMA_VERSION, type JsonObject, type TodoEventPayload } from "../todo-event";
import { ACTION_PATTERN, isNestedDeeperThan, MAX_DETAILS_DEPTH } from "../todo-event-rules";

export type ParsedDelivery =
  { readonly ok: true; readonly event: TodoEventPayload } | { readonly ok: false; readonly reason: string };

export function parseDeliveredEvent(body: unknown): ParsedDelivery {
  if (!isObject(body)) return invalid("body is not a JSON object");
  const envelopeId = body.id;
  const data = typeof body.data === "string" ? parseJsonOrUndefined(body.data) : body.data;
  if (!isObject(data)) return invalid("CloudEvent data is not a JSON object");

  const eventId = data.event_id ?? envelopeId;
  if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > 128) return invalid("missing event id");
  if (typeof data.user_id !== "string" || data.user_id.length === 0 || data.user_id.length > MAX_USER_ID_LENGTH) {
    return invalid("missing user_id");
  }
  if (typeof data.action !== "string" || !ACTION_PATTERN.test(data.action)) return invalid("invalid action");
  if (!Number.isSafeInteger(data.task_id)) return invalid("invalid task_id");
  const details = data.details ?? {};
  if (!isObject(details)) return invalid("details is not an object");
  // Subscribers' sockets serialise details recursively: refuse what our own rules would have.
  if (isNestedDeeperThan(details, MAX_DETAILS_DEPTH)) return invalid("details nested too deeply");
  // Events of other producers (the seed's services) carry no sequence: 0 says "not from the log".
  const sequence = data.sequence ?? 0;
  if (!Number.isSafeInteger(sequence) || (sequence as number) < 0) return invalid("invalid sequence");
  const occurredAt = data.occurred_at ?? body.time;
  if (typeof occurredAt !== "string" || Number.isNaN(Date.parse(occurredAt))) return invalid("invalid occurred_at");

  return {
    ok: true,
    event: {
      event_id: eventId,
      sequence: sequence as number,
      action: data.action,
      task_id: data.task_id as number,
      user_id: data.user_id,
      details: details,
      occurred_at: new Date(occurredAt).toISOString(),
      schema_version: EVENT_SCHEMA_VERSION,
    },
  };
}

function invalid(reason: string): ParsedDelivery {
  return { ok: false, reason };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
