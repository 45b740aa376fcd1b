/**
 * Validates events against schema/asyncapi.yaml, the checked-in document consumers read (a unit
 * test keeps it equal to what the code generates), with ajv: a payload on its own, or a whole
 * Kafka record of todo-events (CloudEvent value, headers and key, and the ties between them that
 * the document states in words: `id` = `event_id`, `type` = `todo.<action>`, key and `user_id`
 * header = `user_id`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { isNestedDeeperThan } from "../../src/events/todo-event-rules";
import { MAX_DEPTH_KEYWORD, MAX_JSON_BYTES_KEYWORD, type JsonSchema } from "../../src/events/todo-event-schema";
import { TopicReader, type KafkaRecord, type TopicReaderOptions } from "../stack/kafka";

export const ASYNCAPI_PATH = join(__dirname, "..", "..", "schema", "asyncapi.yaml");

interface AsyncApiComponents {
  readonly schemas: Record<string, JsonSchema>;
  readonly messages: Record<string, { bindings?: { kafka?: { key?: JsonSchema } } }>;
}

/** An ajv that knows the formats and the two extension keywords the contract uses. */
export function contractAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addKeyword({
    keyword: MAX_JSON_BYTES_KEYWORD,
    schemaType: "number",
    // Depth first: JSON.stringify recurses, and a cycle or a deep nest would throw instead of failing.
    validate: (maxBytes: number, data: unknown) =>
      !isNestedDeeperThan(data, 1000) && Buffer.byteLength(JSON.stringify(data), "utf8") <= maxBytes,
    errors: false,
  });
  ajv.addKeyword({
    keyword: MAX_DEPTH_KEYWORD,
    schemaType: "number",
    validate: (maxDepth: number, data: unknown) => !isNestedDeeperThan(data, maxDepth),
    errors: false,
  });
  return ajv;
}

/** Replaces `{ $ref: "#/components/schemas/Name" }` with the schema it names. */
function inlineRefs(schema: unknown, schemas: Record<string, JsonSchema>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => inlineRefs(item, schemas));
  if (typeof schema !== "object" || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === "string") {
    const name = /^#\/components\/schemas\/(.+)$/.exec(ref)?.[1];
    if (name === undefined || schemas[name] === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return inlineRefs(schemas[name], schemas);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inlineRefs(value, schemas)]));
}

export interface EventContract {
  /** Violations of the payload schema (empty when the payload is valid). */
  payloadViolations(payload: unknown): string[];
  /** Violations of the todo-events message: value, headers, key and how they agree. */
  recordViolations(record: KafkaRecord): string[];
  /** Violations of the dead-letter message. */
  deadLetterViolations(record: KafkaRecord): string[];
}

const messagesOf = (errors: ErrorObject[] | null | undefined, where: string): string[] =>
  (errors ?? []).map((error) => `${where}${error.instancePath || "/"} ${error.message ?? error.keyword}`);

function violationsOf(validate: ValidateFunction, value: unknown, where: string): string[] {
  return validate(value) ? [] : messagesOf(validate.errors, where);
}

export function loadEventContract(path = ASYNCAPI_PATH): EventContract {
  const document = parse(readFileSync(path, "utf8")) as { components: AsyncApiComponents };
  const { schemas, messages } = document.components;
  const ajv = contractAjv();
  const compile = (name: string): ValidateFunction => ajv.compile(inlineRefs(schemas[name], schemas) as object);
  const payload = compile("TodoEventPayload");
  const cloudEvent = compile("TodoCloudEvent");
  const headers = compile("TodoEventHeaders");
  const deadLetter = compile("DeadLetteredCloudEvent");
  const keySchema = messages.todoEvent.bindings?.kafka?.key;
  if (keySchema === undefined) throw new Error(`${path} has no Kafka key binding for todoEvent`);
  const key = ajv.compile(keySchema);

  return {
    payloadViolations: (value) => violationsOf(payload, value, "payload"),
    recordViolations(record) {
      const violations = [
        ...violationsOf(cloudEvent, record.value, "value"),
        ...violationsOf(headers, record.headers, "headers"),
        ...violationsOf(key, record.key, "key"),
      ];
      const event = record.value as { id?: unknown; type?: unknown; data?: Record<string, unknown> };
      const data = event?.data ?? {};
      const ties: [string, unknown, unknown][] = [
        ["key = data.user_id", record.key, data.user_id],
        ["headers.user_id = data.user_id", record.headers.user_id, data.user_id],
        ["headers.partitionKey = data.user_id", record.headers.partitionKey, data.user_id],
        ["id = data.event_id", event?.id, data.event_id],
        ["headers.cloudevent.id = data.event_id", record.headers["cloudevent.id"], data.event_id],
        ["type = todo.<data.action>", event?.type, `todo.${String(data.action)}`],
        ["headers.cloudevent.type = type", record.headers["cloudevent.type"], event?.type],
      ];
      for (const [tie, actual, expected] of ties) {
        if (actual !== expected) violations.push(`${tie}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
      }
      return violations;
    },
    deadLetterViolations: (record) => violationsOf(deadLetter, record.value, "value"),
  };
}

let shared: EventContract | undefined;

/** One compiled contract per test process. */
export function eventContract(): EventContract {
  shared ??= loadEventContract();
  return shared;
}

/** A reader of todo-events that fails the test on any record that breaks the contract. */
export function readTodoEvents(brokers: string, options: TopicReaderOptions = {}): Promise<TopicReader> {
  return TopicReader.start(brokers, "todo-events", {
    ...options,
    validate: (record) => eventContract().recordViolations(record),
  });
}

/** A reader of the dead-letter topic that fails the test on a record that is not a dead-lettered CloudEvent. */
export function readDeadLetters(brokers: string): Promise<TopicReader> {
  return TopicReader.start(brokers, "todo-events-dlq", {
    validate: (record) => eventContract().deadLetterViolations(record),
  });
}
