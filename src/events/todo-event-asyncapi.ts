/**
 * The AsyncAPI 3.0 document of the events the API publishes (`npm run schema` writes it to
 * schema/asyncapi.yaml): channels, the message as a CloudEvent, the payload's JSON Schema, the
 * Kafka bindings and the delivery guarantees. Built from the contract's own definitions, so the
 * document says what the code does.
 */
import { draftTodoEvent, publishMetadataFor, type TodoEventPayload } from "./todo-event";
import { MAX_USER_ID_LENGTH } from "../shared/user-id";
import {
  deadLetteredCloudEventSchema,
  todoCloudEventSchema,
  todoEventHeadersSchema,
  todoEventPayloadSchema,
} from "./todo-event-schema";

/** Where daprd dead-letters deliveries the API drops; the Subscription manifests name it (a test checks). */
export const DEAD_LETTER_TOPIC = "todo-events-dlq";

export interface AsyncApiSettings {
  /** The Dapr pub/sub component (PUBSUB_NAME). */
  readonly pubsubName: string;
  /** The topic (TODO_EVENTS_TOPIC). */
  readonly topic: string;
  /** The document's own version: the API's release. */
  readonly version: string;
}

const KAFKA_BINDING_VERSION = "0.5.0";
const SCHEMAS = "#/components/schemas";

/** The AsyncAPI document as a plain object, ready to be written as YAML or JSON. */
export function todoEventsAsyncApi(settings: AsyncApiSettings): Record<string, unknown> {
  const { pubsubName, topic } = settings;
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Todo events",
      version: settings.version,
      description: [
        `Every change to a user's todos, and every \`triggerTodoEvent\`, is published through the Dapr pub/sub`,
        `component \`${pubsubName}\` to the Kafka topic \`${topic}\`, as a CloudEvent whose \`data\` is the`,
        "payload below (snake_case, fields only ever added).",
        "",
        "Delivery guarantees:",
        "- **At least once.** An event may arrive more than once (a publish retried after a crash, a consumer",
        "  restarted before it committed); every copy carries the same `event_id`: drop duplicates by it.",
        "- **Ordered per user by `sequence`.** The record key is the user id, so a user's events share a",
        "  partition, and their `sequence` (1, 2, 3, ...) is strictly increasing on the topic. A gap is a",
        "  triggered event whose publish failed; if the client retries it, it arrives late with its original",
        "  number. No order holds between users.",
        "- **Identity comes from the verified JWT.** `user_id` (payload, key and header) is never a value a",
        "  client chose, and `details` may not repeat a field of the event.",
        "",
        "A downstream consumer reads with its own, stable consumer group starting from the oldest offset",
        "(the API's own group is per instance and starts at the newest offset).",
      ].join("\n"),
    },
    defaultContentType: "application/json",
    servers: {
      kafka: {
        host: "{brokers}",
        protocol: "kafka",
        protocolVersion: "3.9.0",
        description: "The Kafka cluster behind the Dapr component.",
        variables: {
          brokers: { default: "127.0.0.1:9092", description: "Bootstrap brokers, as in the component's `brokers`." },
        },
      },
    },
    channels: {
      todoEvents: {
        address: topic,
        title: "Todo events",
        description: `Every event of every user, keyed by user id. Published through \`${pubsubName}\`.`,
        messages: { todoEvent: { $ref: "#/components/messages/todoEvent" } },
        bindings: { kafka: { topic, bindingVersion: KAFKA_BINDING_VERSION } },
      },
      todoEventsDeadLetter: {
        address: DEAD_LETTER_TOPIC,
        title: "Dead-lettered deliveries",
        description:
          `What the API's sidecar could not deliver from \`${topic}\`: events the API dropped as malformed, ` +
          "and events that kept failing after the inbound retries.",
        messages: { deadLetteredEvent: { $ref: "#/components/messages/deadLetteredEvent" } },
        bindings: { kafka: { topic: DEAD_LETTER_TOPIC, bindingVersion: KAFKA_BINDING_VERSION } },
      },
    },
    operations: {
      publishTodoEvent: {
        action: "send",
        channel: { $ref: "#/channels/todoEvents" },
        messages: [{ $ref: "#/channels/todoEvents/messages/todoEvent" }],
        summary: "The API publishes each logged event: todo mutations through the outbox relay, triggers at once.",
        description:
          "At least once, in `sequence` order per user: the relay publishes a user's next event only after the " +
          "previous one was acknowledged, and a retry republishes the same `event_id` and `sequence`.",
        "x-delivery": {
          guarantee: "at-least-once",
          orderedBy: "sequence",
          orderedWithin: "user_id",
          dedupeBy: "event_id",
        },
      },
      receiveTodoEvent: {
        action: "receive",
        channel: { $ref: "#/channels/todoEvents" },
        messages: [{ $ref: "#/channels/todoEvents/messages/todoEvent" }],
        summary: "Each API instance reads the topic back for its GraphQL subscriptions.",
        description:
          "With a consumer group of its own per instance, from the newest offset: it needs only what is new. " +
          "A downstream consumer that reused this group, or the API's component, would miss what was published " +
          "while it was down.",
        bindings: {
          kafka: {
            groupId: {
              type: "string",
              pattern: "^todo-api-",
              description: "`todo-api-{uuid}` or `todo-api-{podName}`.",
            },
            bindingVersion: KAFKA_BINDING_VERSION,
          },
        },
      },
      deadLetterTodoEvent: {
        action: "send",
        channel: { $ref: "#/channels/todoEventsDeadLetter" },
        messages: [{ $ref: "#/channels/todoEventsDeadLetter/messages/deadLetteredEvent" }],
        summary: "The API's sidecar moves deliveries the API drops to the dead-letter topic.",
      },
    },
    components: {
      schemas: {
        TodoEventPayload: todoEventPayloadSchema(),
        TodoCloudEvent: todoCloudEventSchema(`${SCHEMAS}/TodoEventPayload`),
        TodoEventHeaders: todoEventHeadersSchema(),
        DeadLetteredCloudEvent: deadLetteredCloudEventSchema(),
      },
      messages: {
        todoEvent: {
          name: "TodoEvent",
          title: "A todo event",
          summary: "One event of one user, as a CloudEvent (JSON) on a record keyed by the user id.",
          description: [
            "CloudEvent attributes:",
            "- `id` = `data.event_id`",
            "- `type` = `todo.` + `data.action`",
            "- `source` = the publisher's Dapr app id (`todo-api`)",
            "- `datacontenttype` = `application/json`",
            "- `traceparent` = the W3C trace context of the request that caused the event",
            "",
            "Kafka: the record key is `data.user_id`; the headers carry the publish metadata, among them `user_id`.",
          ].join("\n"),
          contentType: "application/json",
          headers: { $ref: `${SCHEMAS}/TodoEventHeaders` },
          payload: { $ref: `${SCHEMAS}/TodoCloudEvent` },
          bindings: {
            kafka: {
              key: {
                type: "string",
                minLength: 1,
                maxLength: MAX_USER_ID_LENGTH,
                description: "The user id: a user's events share a partition, which keeps them in order.",
              },
              bindingVersion: KAFKA_BINDING_VERSION,
            },
          },
          examples: [exampleMessage(pubsubName, topic)],
        },
        deadLetteredEvent: {
          name: "DeadLetteredEvent",
          title: "A dead-lettered delivery",
          contentType: "application/json",
          payload: { $ref: `${SCHEMAS}/DeadLetteredCloudEvent` },
        },
      },
    },
  };
}

/** A task_created event as it appears on the topic (a test validates it against the schemas above). */
function exampleMessage(pubsubName: string, topic: string): Record<string, unknown> {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const event: TodoEventPayload = {
    ...draftTodoEvent({
      eventId: "6f1c2a4e-8d3b-4c5a-9e7f-1a2b3c4d5e6f",
      action: "task_created",
      taskId: 123,
      userId: "user-456",
      details: { title: "Sample task", description: null, priority: "HIGH", due_at: null, completed: false },
      occurredAt: new Date("2026-11-29T08:00:00.000Z"),
    }),
    sequence: 7,
  };
  return {
    name: "taskCreated",
    summary: "The user's seventh event: they created todo 123.",
    headers: publishMetadataFor(event, traceparent),
    payload: {
      specversion: "1.0",
      id: event.event_id,
      source: "todo-api",
      type: `todo.${event.action}`,
      datacontenttype: "application/json",
      time: "2026-11-29T08:00:00.012Z",
      topic,
      pubsubname: pubsubName,
      traceparent,
      traceid: traceparent,
      tracestate: "",
      data: event,
    },
  };
}
