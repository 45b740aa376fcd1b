/**
 * schema/asyncapi.yaml is a valid AsyncAPI 3 document (by the AsyncAPI parser) and says what the
 * code and the Dapr resources do: the channels, the headers the publisher sets, and an example
 * message that passes its own schemas.
 */
import { readFileSync } from "node:fs";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { parse, stringify } from "yaml";
import { loadConfig } from "../../../src/config/config";
import { DEAD_LETTER_TOPIC } from "../../../src/events/todo-event-asyncapi";
import { publishMetadataFor } from "../../../src/events/todo-event";
import { ASYNCAPI_PATH, eventContract } from "../../support/event-contract";
import { todoEventPayload } from "../../support/event-payloads";

const source = readFileSync(ASYNCAPI_PATH, "utf8");
const document = parse(source) as {
  asyncapi: string;
  channels: Record<string, { address: string }>;
  components: {
    schemas: { TodoEventHeaders: { properties: Record<string, unknown> } };
    messages: {
      todoEvent: { contentType: string; examples: { headers: Record<string, string>; payload: unknown }[] };
    };
  };
};
const defaults = loadConfig({}).config.dapr;

/** Errors and warnings of the AsyncAPI parser (its hints, such as "a newer version exists", do not count). */
async function problemsOf(text: string): Promise<string[]> {
  const diagnostics = await new Parser().validate(text);
  return diagnostics
    .filter((diagnostic) => [DiagnosticSeverity.Error, DiagnosticSeverity.Warning].includes(diagnostic.severity))
    .map((diagnostic) => `${diagnostic.code} at ${diagnostic.path.join(".")}: ${diagnostic.message}`);
}

describe("schema/asyncapi.yaml", () => {
  it("is an AsyncAPI 3.0 document the AsyncAPI parser finds no error or warning in", async () => {
    expect(document.asyncapi).toBe("3.0.0");
    expect(await problemsOf(source)).toEqual([]);
  }, 30_000);

  it("would be reported by the parser if its payload schema were broken", async () => {
    const broken = parse(source) as { components: { schemas: { TodoEventPayload: Record<string, unknown> } } };
    broken.components.schemas.TodoEventPayload.type = 42;
    expect((await problemsOf(stringify(broken))).length).toBeGreaterThan(0);
  }, 30_000);

  it("describes the topic the API publishes to and the dead-letter topic of its Subscription", () => {
    expect(Object.values(document.channels).map((channel) => channel.address)).toEqual([
      defaults.todoEventsTopic,
      DEAD_LETTER_TOPIC,
    ]);
  });

  it("names as headers exactly the publish metadata the API sets", () => {
    const event = todoEventPayload({ action: "task_created", taskId: 1, userId: "user-1", details: {} });
    const metadata = publishMetadataFor(event, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    expect(Object.keys(document.components.schemas.TodoEventHeaders.properties).sort()).toEqual(
      Object.keys(metadata).sort(),
    );
  });

  it("carries a JSON message whose example passes the document's own schemas", () => {
    const message = document.components.messages.todoEvent;
    expect(message.contentType).toBe("application/json");
    expect(message.examples).toHaveLength(1);
    const [example] = message.examples;
    const record = {
      topic: defaults.todoEventsTopic,
      partition: 0,
      offset: "0",
      key: example.headers.partitionKey,
      headers: example.headers,
      value: example.payload,
    };
    expect(eventContract().recordViolations(record)).toEqual([]);
  });

  it("accepts a CloudEvent without trace context, as daprd writes it for a publish that carried none", () => {
    const [example] = document.components.messages.todoEvent.examples;
    const { "cloudevent.traceparent": _dropped, ...headers } = example.headers;
    const value = { ...(example.payload as Record<string, unknown>), traceparent: "", traceid: "" };
    const record = { topic: "todo-events", partition: 0, offset: "0", key: headers.partitionKey, headers, value };
    expect(eventContract().recordViolations(record)).toEqual([]);
    expect(eventContract().recordViolations({ ...record, value: { ...value, traceparent: "00-abc" } })).not.toEqual([]);
  });
});
