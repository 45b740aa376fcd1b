import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";
import type { GraphQLContext } from "../context";
import type { RateLimiter } from "./rate-limiter";

/** Charges each authenticated operation to its user; over the limit answers RATE_LIMITED (HTTP 429). */
export function rateLimitPlugin(limiter: RateLimiter): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const user = contextValue.user;
      if (user === null) return;
      return {
        async didResolveOperation() {
          const decision = limiter.take(user.id);
          if (decision.allowed) return;
          throw new GraphQLError(`Rate limit exceeded; retry in ${decision.retryAfterSeconds} s`, {
            extensions: {
              code: "RATE_LIMITED",
              retryAfterSeconds: decision.retryAfterSeconds,
              http: { status: 429, headers: new Map([["retry-after", String(decision.retryAfterSeconds)]]) },
            },
          });
        },
      };
    },
  };
}
