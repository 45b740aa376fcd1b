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
  /**
   * The request's W3C trace context, asked for only when something needs it (an event to
   * publish, a log line): minting one costs random bytes that most reads never use.
   */
  readonly traceparent?: () => string;
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
  return async (facts) => {
    const context = new RequestContext(facts, deps.services, deps.logger);
    context.user = facts.verifiedUser ?? (await deps.policy.authenticate(facts.authorization, context));
    return context;
  };
}

/**
 * The context, with its logger and trace context made on first use: a request that logs
 * nothing and publishes nothing (most reads) pays for neither.
 */
class RequestContext implements GraphQLContext {
  user: AuthenticatedUser | null = null;
  readonly requestId: string;
  readonly clientAddress?: string;
  private childLog?: Logger;
  private trace?: string;

  constructor(
    private readonly facts: RequestFacts,
    readonly services: Services,
    private readonly logger: Logger,
  ) {
    this.requestId = facts.requestId;
    if (facts.clientAddress !== undefined) this.clientAddress = facts.clientAddress;
  }

  get traceparent(): string | undefined {
    if (this.trace === undefined && this.facts.traceparent !== undefined) this.trace = this.facts.traceparent();
    return this.trace;
  }

  get log(): Logger {
    if (this.childLog === undefined) {
      const traceparent = this.traceparent;
      // The trace id (second field of a traceparent) ties the request's logs to its events.
      this.childLog = this.logger.child(
        traceparent === undefined
          ? { requestId: this.requestId }
          : { requestId: this.requestId, traceId: traceparent.split("-")[1] },
      );
    }
    return this.childLog;
  }
}
