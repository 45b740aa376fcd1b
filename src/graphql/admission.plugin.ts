import type { ApolloServerPlugin } from "@apollo/server";
import type { GraphQLContext } from "./context";
import type { RequestPolicy } from "./request-policy";

/**
 * Step 4 of the request policy on HTTP: once Apollo knows which operation a
 * valid document runs, the policy admits it or refuses it (a subscription over
 * HTTP, a spent rate limit).
 */
export function admissionPlugin(policy: RequestPolicy): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          // Always set here: Apollo answers a document without a matching operation before this hook.
          if (operation === undefined) return;
          policy.admit(
            operation.operation,
            "http",
            contextValue.user === null ? { clientAddress: contextValue.clientAddress } : { user: contextValue.user },
          );
        },
      };
    },
  };
}
