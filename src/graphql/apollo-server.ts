import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "../logging/logger";
import type { GraphQLContext } from "./context";
import { formatGraphQLError, isExpectedError } from "./format-error";
import { queryLimitRules } from "./limits/query-limits";
import { rateLimitPlugin } from "./limits/rate-limit.plugin";
import { operationMetricsPlugin } from "./metrics.plugin";
import type { Metrics } from "../metrics/metrics";
import type { RateLimiter } from "./limits/rate-limiter";

export interface ApolloServerOptions {
  readonly schema: GraphQLSchema;
  readonly introspection: boolean;
  /** Serve Apollo Sandbox at GET /graphql; otherwise the production landing page. */
  readonly sandbox: boolean;
  /** Prefilled in Sandbox's Authorization header (only with the public development secret). */
  readonly sandboxToken?: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Omitted: no rate limiting. */
  readonly rateLimiter?: RateLimiter;
  readonly extraPlugins?: ApolloServerPlugin<GraphQLContext>[];
}

export const SANDBOX_EXAMPLE_OPERATION = `mutation TriggerTodoEvent {
  triggerTodoEvent(taskId: 123, input: { action: "task_created", details: { title: "Sample task", priority: "high" } }) {
    success
    message
    eventId
  }
}

query Me {
  me { id }
}
`;

export function createApolloServer(options: ApolloServerOptions): ApolloServer<GraphQLContext> {
  return new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: options.introspection,
    // Field suggestions would leak the schema that disabled introspection hides.
    hideSchemaDetailsFromClientErrors: !options.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // main.ts owns shutdown (ordering, deadline, exit code); Apollo must not race it.
    stopOnTerminationSignals: false,
    formatError: formatGraphQLError,
    validationRules: queryLimitRules(),
    // Batched HTTP requests stay off (Apollo's default): one operation per request, one rate-limit charge.
    allowBatchedHttpRequests: false,
    plugins: [
      landingPage(options),
      errorLoggingPlugin(options.logger),
      ...(options.rateLimiter === undefined ? [] : [rateLimitPlugin(options.rateLimiter)]),
      ...(options.metrics === undefined ? [] : [operationMetricsPlugin(options.metrics)]),
      ...(options.extraPlugins ?? []),
    ],
  });
}

function landingPage(options: ApolloServerOptions): ApolloServerPlugin {
  if (!options.sandbox) return ApolloServerPluginLandingPageProductionDefault({ footer: false });
  return ApolloServerPluginLandingPageLocalDefault({
    embed: { runTelemetry: false },
    footer: false,
    includeCookies: false,
    document: SANDBOX_EXAMPLE_OPERATION,
    ...(options.sandboxToken === undefined ? {} : { headers: { Authorization: `Bearer ${options.sandboxToken}` } }),
  });
}

/** Logs unexpected errors with the request id, since the client only sees a masked message. */
function errorLoggingPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          const log = contextValue?.log ?? logger;
          for (const error of errors) {
            if (!isExpectedError(error))
              log.error({ err: error.originalError ?? error, operationName }, "unexpected GraphQL error");
          }
        },
      };
    },
  };
}
