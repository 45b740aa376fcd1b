/**
 * The contract files under schema/, as the code defines them: the GraphQL SDL, the AsyncAPI
 * document of the events and the payload's JSON Schema on its own (for consumers that validate
 * without an AsyncAPI tool). `npm run schema` writes them; a test fails when one is stale.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../src/config/config";
import { todoEventsAsyncApi } from "../src/events/todo-event-asyncapi";
import { todoEventPayloadSchema } from "../src/events/todo-event-schema";
import { printGraphQLSchema } from "../src/graphql/print-schema";
import { buildGraphQLSchema } from "../src/graphql/schema";

export const REPO_ROOT = join(__dirname, "..");

export interface ContractFile {
  /** Relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

const GENERATED = "Generated from the code by `npm run schema`; do not edit by hand.";

/** The AsyncAPI document for the default component and topic names (PUBSUB_NAME, TODO_EVENTS_TOPIC). */
export function asyncApiDocument(): Record<string, unknown> {
  const { pubsubName, todoEventsTopic } = loadConfig({}).config.dapr;
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  return todoEventsAsyncApi({ pubsubName, topic: todoEventsTopic, version });
}

/** The payload's schema as a standalone JSON Schema document. */
export function todoEventJsonSchema(): Record<string, unknown> {
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $comment: `${GENERATED} The same schema as components.schemas.TodoEventPayload of asyncapi.yaml.`,
    ...todoEventPayloadSchema(),
  };
}

export async function contractFiles(): Promise<ContractFile[]> {
  return [
    { path: "schema/schema.graphql", content: printGraphQLSchema(await buildGraphQLSchema()) },
    {
      path: "schema/asyncapi.yaml",
      content: `# ${GENERATED}\n${stringify(asyncApiDocument(), { lineWidth: 0 })}`,
    },
    { path: "schema/todo-event.schema.json", content: `${JSON.stringify(todoEventJsonSchema(), null, 2)}\n` },
  ];
}
