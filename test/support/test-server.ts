/** Starts the real Express/Apollo stack on an ephemeral loopback port with an in-memory publisher. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { startApplication, type RunningApplication } from "../../src/application";
import type { Database } from "../../src/db/database";
import type { Logger } from "../../src/logging/logger";
import type { SidecarStatus } from "../../src/events/event-publisher";
import { testConfig } from "./config";
import { InMemoryEventPublisher } from "./in-memory-event-publisher";
import { silentLogger } from "./logger";
import { tokenFor } from "./tokens";
import { CreateTodoDocument } from "../generated/graphql";

export interface TestServer {
  readonly app: RunningApplication;
  readonly publisher: InMemoryEventPublisher;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly env?: Record<string, string | undefined>;
  readonly sidecar?: SidecarStatus;
  /** Defaults to a private in-memory SQLite database. */
  readonly database?: Database;
  readonly publisher?: InMemoryEventPublisher;
  /** Defaults to a silent logger; tests that assert on log lines pass a recording one. */
  readonly logger?: Logger;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const publisher = options.publisher ?? new InMemoryEventPublisher();
  const app = await startApplication(testConfig(options.env), {
    publisher,
    database: options.database,
    relayTuning: { pollIntervalMs: 20, backoff: { baseMs: 10, maxMs: 100 } },
    logger: options.logger ?? silentLogger,
    host: "127.0.0.1",
    probeSidecar: async () => options.sidecar ?? "unreachable",
  });
  return { app, publisher, origin: `http://127.0.0.1:${app.port}`, stop: () => app.close() };
}

export interface GraphQLHttpResponse<TData> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: TData | null; errors?: GraphQLFormattedError[] };
}

export async function postGraphQL<TData, TVariables>(
  origin: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  headers: Record<string, string> = {},
): Promise<GraphQLHttpResponse<TData>> {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as GraphQLHttpResponse<TData>["body"],
  };
}

/** Sends `createTodo` as `userId` and returns the new todo's id, failing loudly otherwise. */
export async function createTodoAs(origin: string, userId: string, title = "a todo"): Promise<number> {
  const response = await postGraphQL(origin, CreateTodoDocument, { input: { title } }, asUser(userId));
  const id = response.body.data?.createTodo.id;
  if (id === undefined) throw new Error(`createTodo failed: ${JSON.stringify(response.body.errors)}`);
  return id;
}

/** Headers of a request authenticated as `userId`. */
export function asUser(userId: string): Record<string, string> {
  return { authorization: `Bearer ${tokenFor(userId)}` };
}
