import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from "@apollo/server/plugin/landingPage/default";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "../logging/logger";
import type { GraphQLContext } from "./context";
import { admissionPlugin } from "./admission.plugin";
import { ErrorCode } from "../error-codes";
import { operationMetricsPlugin } from "./metrics.plugin";
import type { Metrics } from "../metrics/metrics";
import type { RequestPolicy } from "./request-policy";

export interface ApolloServerOptions {
  readonly schema: GraphQLSchema;
  /** Everything a request must pass; the WebSocket applies the same one. */
  readonly policy: RequestPolicy;
  /** Serve Apollo Sandbox at GET /graphql; otherwise the production landing page. */
  readonly sandbox: boolean;
  /** Prefilled in Sandbox's Authorization header (only with the public development secret). */
  readonly sandboxToken?: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
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
    // The policy's own validation rule refuses introspection when it is off, on both transports.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // main.ts owns shutdown (ordering, deadline, exit code); Apollo must not race it.
    stopOnTerminationSignals: false,
    parseOptions: options.policy.parseOptions,
    validationRules: [...options.policy.validationRules],
    validationOptions: { maxErrors: options.policy.maxValidationErrors },
    formatError: options.policy.formatError,
    // Batched HTTP requests stay off (Apollo's default): one operation per request, one rate-limit charge.
    allowBatchedHttpRequests: false,
    plugins: [
      // Nothing here sets cache hints, and the default plugin wraps every field resolver to read them.
      ApolloServerPluginCacheControlDisabled(),
      landingPage(options),
      errorLoggingPlugin(options.logger, options.policy),
      admissionPlugin(options.policy),
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

/**
 * Logs our own faults with the request id, since the client only sees a masked message. An error is
 * ours exactly when the policy's formatter masks it; a client's mistake is not logged as an error.
 * A database fault (SERVICE_UNAVAILABLE) is logged as a warning with the driver's error.
 */
function errorLoggingPlugin(logger: Logger, policy: RequestPolicy): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          const log = contextValue?.log ?? logger;
          for (const error of errors) {
            const code = policy.formatError(error.toJSON(), error).extensions?.code;
            if (code === ErrorCode.INTERNAL_SERVER_ERROR)
              log.error({ err: error.originalError ?? error, operationName }, "unexpected GraphQL error");
            // Not the client's doing either, but expected: the driver's error says which fault it was.
            else if (code === ErrorCode.SERVICE_UNAVAILABLE)
              log.warn({ err: error.originalError?.cause ?? error, operationName }, "database unavailable");
          }
        },
      };
    },
  };
}
