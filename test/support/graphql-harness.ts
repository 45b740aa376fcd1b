/**
 * Runs operations through the real schema, auth checker, validation and error
 * formatting (Apollo's executeOperation), without HTTP: the shape of a
 * resolver unit test here.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { GraphQLFormattedError, GraphQLSchema } from "graphql";
import { createServices } from "../../src/services";
import { createTokenVerifier } from "../../src/auth/token-verifier";
import type { OutboxRelay } from "../../src/events/log/outbox-relay";
import { createApolloServer } from "../../src/graphql/apollo-server";
import type { Services } from "../../src/graphql/context";
import { createContextFactory } from "../../src/graphql/context-factory";
import { createRequestPolicy } from "../../src/graphql/request-policy";
import { buildGraphQLSchema } from "../../src/graphql/schema";
import { testConfig } from "./config";
import { openTestDatabase, type TestDatabase } from "./databases";
import { InMemoryEventPublisher } from "./in-memory-event-publisher";
import { silentLogger } from "./logger";
import { tokenFor } from "./tokens";

let schema: Promise<GraphQLSchema> | undefined;

export interface OperationResult<TData> {
  readonly data?: TData | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

export interface GraphQLHarness {
  readonly publisher: InMemoryEventPublisher;
  readonly services: Services;
  readonly database: TestDatabase;
  /** Not started: tests drive it with `drainOnce()` for determinism. */
  readonly relay: OutboxRelay;
  /**
   * Creates a todo owned by `userId` (through the service) and returns its id. The relay then
   * publishes its task_created event and the publisher forgets it, so a test sees only what it
   * causes, and a trigger need not wait behind the todo's pending event.
   */
  todoFor(userId: string, title?: string): Promise<number>;
  close(): Promise<void>;
  /** Runs an operation as `userId` (a freshly signed token), or anonymously when `userId` is null. */
  execute<TData, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
    userId: string | null,
  ): Promise<OperationResult<TData>>;
}

/** One harness per test (or file) on its own in-memory SQLite database, or on PostgreSQL when asked. */
export async function createGraphQLHarness(
  options: { publisher?: InMemoryEventPublisher; database?: TestDatabase } = {},
): Promise<GraphQLHarness> {
  schema ??= buildGraphQLSchema();
  const config = testConfig();
  const publisher = options.publisher ?? new InMemoryEventPublisher();
  const database = options.database ?? (await openTestDatabase("sqlite"));
  const { services, relay } = createServices({
    database,
    publisher,
    logger: silentLogger,
    config,
  });
  // The production policy without a rate limit: resolver tests run many operations per user.
  const policy = createRequestPolicy({
    verifyAccessToken: (await createTokenVerifier(config.jwt, { logger: silentLogger })).verify,
    documentLimits: config.documentLimits,
    introspection: true,
  });
  const server = createApolloServer({ schema: await schema, policy, sandbox: false, logger: silentLogger });
  await server.start();
  const createContext = createContextFactory({ policy, services, logger: silentLogger });

  return {
    publisher,
    services,
    database,
    relay,
    async todoFor(userId, title = "a todo") {
      const { id } = await services.todos.create({ id: userId }, { title });
      await relay.drainOnce();
      publisher.forget();
      return id;
    },
    async close() {
      await server.stop();
      await relay.stop();
      await database.dispose();
    },
    async execute(document, variables, userId) {
      const contextValue = await createContext({
        requestId: "test-request",
        authorization: userId === null ? undefined : `Bearer ${tokenFor(userId)}`,
      });
      const response = await server.executeOperation({ query: document, variables }, { contextValue });
      if (response.body.kind !== "single") throw new Error("expected a single result");
      const { data, errors } = response.body.singleResult;
      return { data: data as never, errors };
    },
  };
}

/** The `extensions.code` of the only error, failing loudly when the shape is different. */
export function onlyErrorCode(result: OperationResult<unknown>): unknown {
  if (result.errors?.length !== 1) throw new Error(`expected exactly one error, got ${JSON.stringify(result.errors)}`);
  return result.errors[0].extensions?.code;
}
