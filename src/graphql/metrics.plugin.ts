import type { ApolloServerPlugin } from "@apollo/server";
import { BoundedLabel, type Metrics } from "../metrics/metrics";
import type { GraphQLContext } from "./context";

/** Counts operations by name and outcome: "ok" or the first error's code. */
export function operationMetricsPlugin(metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
  const operationNames = new BoundedLabel(200);
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operationName, operation, response }) {
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
          const code = errors?.[0]?.extensions?.code;
          metrics.graphqlOperations.inc({
            operation: operationNames.of(operationName),
            type: operation?.operation ?? "unknown",
            outcome: errors === undefined || errors.length === 0 ? "ok" : typeof code === "string" ? code : "error",
          });
        },
      };
    },
  };
}
