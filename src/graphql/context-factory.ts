/**
 * Turns transport facts into the per-request context. HTTP hands in the
 * Authorization header, verified here for each request; the WebSocket hands in
 * the user it verified once when the socket connected.
 */
import type { AuthenticatedUser } from "../auth/access-token";
import type { Logger } from "../logging/logger";
import type { GraphQLContext, Services } from "./context";
import type { RequestPolicy } from "./request-policy";

export interface RequestFacts {
  readonly requestId: string;
  readonly traceparent?: string;
  /** The peer's address; anonymous requests are rate-limited by it. */
  readonly clientAddress?: string;
  /** HTTP: the raw header, verified by the request policy (an invalid token fails the request with 401). */
  readonly authorization?: string;
  /** WebSocket: the user verified at connection time. */
  readonly verifiedUser?: AuthenticatedUser;
}

export type ContextFactory = (facts: RequestFacts) => Promise<GraphQLContext>;

export function createContextFactory(deps: {
  readonly policy: RequestPolicy;
  readonly services: Services;
  readonly logger: Logger;
}): ContextFactory {
  return async ({ requestId, traceparent, clientAddress, authorization, verifiedUser }) => {
    // The trace id (second field of a traceparent) ties the request's logs to its events.
    const log = deps.logger.child(
      traceparent === undefined ? { requestId } : { requestId, traceId: traceparent.split("-")[1] },
    );
    const user = verifiedUser ?? (await deps.policy.authenticate(authorization, log));
    return {
      user,
      requestId,
      log,
      services: deps.services,
      ...(clientAddress === undefined ? {} : { clientAddress }),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
  };
}
