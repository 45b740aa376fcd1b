/**
 * The event contract as JSON Schema (draft-07, the dialect AsyncAPI 3 schemas extend), built from
 * the constants the API's own rules use, so the published contract cannot drift from what the API
 * enforces. Two limits of `details` that JSON Schema cannot state, its serialised size and its
 * nesting depth, are the extension keywords below; a validator that wants them registers them
 * (the tests' validator does, with the API's own depth check).
 */
import { MAX_USER_ID_LENGTH } from "../shared/user-id";
import { EVENT_SCHEMA_VERSION, TODO_EVENT_FIELDS, TODO_MUTATION_ACTIONS } from "./todo-event";
import { ACTION_PATTERN, MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH, RESERVED_DETAILS_KEYS } from "./todo-event-rules";

export type JsonSchema = { readonly [keyword: string]: unknown };

/** The value of the keyword is the most UTF-8 bytes the value may take as JSON (`JSON.stringify`). */
export const MAX_JSON_BYTES_KEYWORD = "x-max-json-bytes";
/** The value of the keyword is how deep objects and arrays may nest, the value itself being level 1. */
export const MAX_DEPTH_KEYWORD = "x-max-depth";

/** The CloudEvent `type` daprd sets from the publish metadata: `todo.<action>`. */
export const CLOUD_EVENT_TYPE_PATTERN = new RegExp(`^todo\\.${ACTION_PATTERN.source.slice(1)}`);

/** W3C trace context, version 00: what the API passes on as the CloudEvent's `traceparent`. */
const TRACEPARENT_PATTERN = /^00-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/** The payload the API publishes: the CloudEvent's `data`. */
export function todoEventPayloadSchema(): JsonSchema {
  return {
    title: "TodoEventPayload",
    description:
      "One event of one user: what happened to which of their todos. Fields are only ever added " +
      "(`schema_version` stays 1), so a consumer must accept fields it does not know.",
    type: "object",
    required: [...TODO_EVENT_FIELDS],
    additionalProperties: true,
    properties: {
      event_id: {
        type: "string",
        format: "uuid",
        description:
          "Unique per event and kept by every redelivery and every retried publish: drop duplicates by it. " +
          "The CloudEvent `id` is the same value. New events get version 7 (time-ordered) UUIDs; read the id " +
          "as opaque, and order a user's events by `sequence`.",
      },
      sequence: {
        type: "integer",
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          "The user's event number: 1, 2, 3, ... in the order the user's events were logged, and strictly " +
          "increasing on the topic for that user. A gap is a triggered event whose publish failed (FAILED in the " +
          "user's history); a client retry with the same idempotency key publishes it later with its original " +
          "number, so a consumer that orders by sequence puts it back in place.",
      },
      action: {
        type: "string",
        pattern: ACTION_PATTERN.source,
        description:
          `What happened. Todo mutations emit ${TODO_MUTATION_ACTIONS.map((action) => `\`${action}\``).join(", ")}; ` +
          "triggerTodoEvent carries the client's own action.",
        examples: [...TODO_MUTATION_ACTIONS],
      },
      task_id: {
        type: "integer",
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "The todo the event is about; always one of the user's own.",
      },
      user_id: {
        type: "string",
        minLength: 1,
        maxLength: MAX_USER_ID_LENGTH,
        description:
          "The verified subject of the caller's JWT, never a client-supplied value. Also the Kafka record key " +
          "and the `user_id` record header.",
      },
      details: {
        type: "object",
        description:
          "What changed: task_created carries title, description, priority, due_at and completed; task_updated " +
          "only the changed fields; task_completed `{ completed: true }`; task_deleted the title; a triggered " +
          `event the client's object. At most ${MAX_DETAILS_BYTES} bytes as JSON and ${MAX_DETAILS_DEPTH} levels ` +
          "deep (details itself is level 1); no top-level key repeats a field of the event.",
        propertyNames: { not: { enum: [...RESERVED_DETAILS_KEYS] } },
        [MAX_JSON_BYTES_KEYWORD]: MAX_DETAILS_BYTES,
        [MAX_DEPTH_KEYWORD]: MAX_DETAILS_DEPTH,
      },
      occurred_at: {
        type: "string",
        format: "date-time",
        description: "When the event was logged (UTC, ISO 8601 with milliseconds).",
      },
      schema_version: {
        type: "integer",
        const: EVENT_SCHEMA_VERSION,
        description: "Stays 1: fields are only ever added.",
      },
    },
  };
}

/** The Kafka record headers: daprd copies the publish metadata into them. */
export function todoEventHeadersSchema(): JsonSchema {
  const userId = { type: "string", minLength: 1, maxLength: MAX_USER_ID_LENGTH };
  return {
    title: "TodoEventHeaders",
    description: "Kafka record headers of an event (daprd writes every publish metadata entry as a header).",
    type: "object",
    required: ["user_id", "partitionKey", "cloudevent.id", "cloudevent.type"],
    additionalProperties: { type: "string" },
    properties: {
      user_id: { ...userId, description: "The payload's user_id, readable without parsing the value." },
      partitionKey: { ...userId, description: "The payload's user_id, which daprd made the record key." },
      "cloudevent.id": { type: "string", format: "uuid", description: "The payload's event_id." },
      "cloudevent.type": { type: "string", pattern: CLOUD_EVENT_TYPE_PATTERN.source, description: "todo.<action>" },
      "cloudevent.traceparent": {
        type: "string",
        pattern: TRACEPARENT_PATTERN.source,
        description: "The W3C trace context of the request that caused the event.",
      },
    },
  };
}

/** The record value: a structured-mode CloudEvent 1.0 whose `data` is the payload at `payloadRef`. */
export function todoCloudEventSchema(payloadRef: string): JsonSchema {
  return {
    title: "TodoCloudEvent",
    description:
      "The CloudEvent 1.0 (JSON, structured mode) daprd wraps around the payload. Its `id` is the payload's " +
      "event_id and its `type` is `todo.` followed by the payload's action.",
    type: "object",
    required: ["specversion", "id", "source", "type", "datacontenttype", "data"],
    additionalProperties: true,
    properties: {
      ...cloudEventAttributes(),
      id: { type: "string", format: "uuid", description: "The payload's event_id." },
      type: { type: "string", pattern: CLOUD_EVENT_TYPE_PATTERN.source, description: "`todo.<action>`." },
      datacontenttype: { const: "application/json" },
      traceparent: {
        type: "string",
        // daprd writes an empty string when the publish carried no trace context.
        pattern: `^(${TRACEPARENT_PATTERN.source.slice(1, -1)})?$`,
        description:
          "The W3C trace context of the request that caused the event: continue the trace from it. Empty for an " +
          "event published without one (logged outside a request).",
      },
      data: { $ref: payloadRef },
    },
  };
}

/** What daprd writes to the dead-letter topic: the CloudEvent as it was delivered, whatever its data. */
export function deadLetteredCloudEventSchema(): JsonSchema {
  return {
    title: "DeadLetteredCloudEvent",
    description:
      "A delivery the API answered DROP (not a todo event: malformed, or from a producer that does not " +
      "follow this contract) or that kept failing after the inbound retries, as daprd delivered it.",
    type: "object",
    required: ["specversion", "id", "source", "type"],
    additionalProperties: true,
    properties: { ...cloudEventAttributes(), data: { description: "Whatever the producer sent." } },
  };
}

/** The attributes daprd sets on every CloudEvent it publishes. */
function cloudEventAttributes(): Record<string, JsonSchema> {
  return {
    specversion: { const: "1.0" },
    id: { type: "string", minLength: 1 },
    source: { type: "string", minLength: 1, description: "The publisher's Dapr app id (`todo-api`)." },
    type: { type: "string", minLength: 1 },
    datacontenttype: { type: "string" },
    time: { type: "string", format: "date-time", description: "When daprd published it." },
    topic: { type: "string", description: "The topic the event was published to." },
    pubsubname: { type: "string", description: "The Dapr pub/sub component it was published through." },
    traceparent: { type: "string" },
    traceid: { type: "string" },
    tracestate: { type: "string" },
  };
}
