/** Starts the real Express/Apollo stack on an ephemeral loopback port with an in-memory publisher. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { startApplication, type RunningApplication } from "../../src/application";
import type { SidecarStatus } from "../../src/events/dapr-sidecar-probe";
import { testConfig } from "./config";
import { InMemoryEventPublisher } from "./in-memory-event-publisher";
import { silentLogger } from "./logger";

export interface TestServer {
  readonly app: RunningApplication;
  readonly publisher: InMemoryEventPublisher;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: { env?: Record<string, string | undefined>; sidecar?: SidecarStatus } = {},
): Promise<TestServer> {
  const publisher = new InMemoryEventPublisher();
  const app = await startApplication(testConfig(options.env), {
    publisher,
    logger: silentLogger,
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
