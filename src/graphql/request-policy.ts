/**
 * The one policy every GraphQL operation passes, whichever transport carried
 * it, in this order:
 *   1. verify the token (`authenticate`);
 *   2. parse within the token limit, then validate against the schema and the
 *      document limits (`parse`, `validate`, or `parseOptions` + `validationRules`);
 *   3. refuse introspection when it is off (a validation rule), and hide field
 *      suggestions in messages (`formatError`);
 *   4. admit the operation: its kind must suit the transport, and it is charged
 *      to the caller's rate-limit bucket (`admit`);
 *   5. execute (the transport's own executor);
 *   6. format every error with the same codes and masking (`formatError`).
 * HTTP (Apollo) and the WebSocket (graphql-ws) only adapt to it.
 */
import {
  GraphQLError,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  OperationTypeNode,
  type OperationDefinitionNode,
  type ParseOptions,
  type ValidationRule,
} from "graphql";
import { AuthenticationFailure, type AuthenticatedUser } from "../auth/access-token";
import { bearerTokenFrom } from "../auth/bearer-token";
import type { DocumentLimits } from "../config/config";
import { ErrorCode } from "../error-codes";
import type { Logger } from "../logging/logger";
import { createErrorFormatter } from "./format-error";
import { introspectionDisabledRule } from "./limits/introspection-disabled.rule";
import { asTokenLimitError, documentLimitRules, documentParseOptions } from "./limits/document-limits";
import type { RateLimiter } from "./limits/rate-limiter";

export type Transport = "http" | "websocket";

export interface RequestPolicyOptions {
  /** May be asynchronous (keys fetched from an identity provider). */
  readonly verifyAccessToken: (token: string) => AuthenticatedUser | Promise<AuthenticatedUser>;
  readonly documentLimits: DocumentLimits;
  /** Off: introspection is refused and messages lose their "Did you mean …?" hints. */
  readonly introspection: boolean;
  /** Omitted: no rate limiting. */
  readonly rateLimiter?: RateLimiter;
}

/** Who an operation is charged to: the verified user, or for anonymous requests the client's address. */
export type RateLimitSubject = { readonly user: AuthenticatedUser } | { readonly clientAddress: string | undefined };

export interface RequestPolicy {
  /** Null for a request without credentials; throws UNAUTHENTICATED (HTTP 401) for bad ones. */
  /** `logs.log` is read only to report a refusal (a request's logger is made on first use). */
  authenticate(authorization: string | undefined, logs: { readonly log: Logger }): Promise<AuthenticatedUser | null>;
  /** For Apollo, which parses and validates itself. */
  readonly parseOptions: ParseOptions;
  /** Beyond graphql's specified rules. */
  readonly validationRules: readonly ValidationRule[];
  /** Validation stops after this many errors: a hostile document cannot make a huge answer. */
  readonly maxValidationErrors: number;
  /** Parses within the token limit; errors carry their code. */
  parse(source: unknown): ParsedDocument;
  /** graphql's rules and ours; errors carry their code. */
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  /**
   * Coerces the variables as execution will; their errors are BAD_USER_INPUT, as Apollo answers
   * them on HTTP (graphql's executor alone would leave them without a code).
   */
  checkVariables(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>> | null | undefined,
  ): readonly GraphQLError[];
  /** Throws a client error when the operation may not run now. */
  admit(operation: OperationTypeNode, transport: Transport, subject: RateLimitSubject): void;
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

export type ParsedDocument =
  | { readonly ok: true; readonly document: DocumentNode }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

const MAX_VALIDATION_ERRORS = 20;

export function createRequestPolicy(options: RequestPolicyOptions): RequestPolicy {
  const parseOptions = documentParseOptions(options.documentLimits);
  const validationRules: ValidationRule[] = [
    ...documentLimitRules(options.documentLimits),
    ...(options.introspection ? [] : [introspectionDisabledRule]),
  ];
  const allRules = [...specifiedRules, ...validationRules];
  const formatError = createErrorFormatter({
    hideSchemaDetails: !options.introspection,
    documentLimits: options.documentLimits,
  });

  return {
    parseOptions,
    validationRules,
    maxValidationErrors: MAX_VALIDATION_ERRORS,
    formatError,

    async authenticate(authorization, logs) {
      try {
        const token = bearerTokenFrom(authorization);
        return token === undefined ? null : await options.verifyAccessToken(token);
      } catch (error) {
        if (!(error instanceof AuthenticationFailure)) throw error;
        logs.log.info({ reason: error.reason }, "request refused: invalid credentials");
        throw new GraphQLError(`Unauthenticated: ${error.reason}`, {
          extensions: {
            code: ErrorCode.UNAUTHENTICATED,
            http: { status: 401, headers: new Map([["www-authenticate", "Bearer"]]) },
          },
        });
      }
    },

    parse(source) {
      if (typeof source !== "string" || source.trim() === "") {
        const missing = new GraphQLError("A query string is required", { extensions: { code: ErrorCode.BAD_REQUEST } });
        return { ok: false, errors: [missing] };
      }
      try {
        return { ok: true, document: parse(source, parseOptions) };
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        const refusal =
          asTokenLimitError(error, options.documentLimits) ??
          new GraphQLError(error.message, {
            source: error.source,
            positions: error.positions,
            extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED },
          });
        return { ok: false, errors: [refusal] };
      }
    },

    validate(schema, document) {
      return validate(schema, document, allRules, { maxErrors: MAX_VALIDATION_ERRORS }).map((error) =>
        error.extensions.code === undefined
          ? new GraphQLError(error.message, {
              nodes: error.nodes,
              extensions: { ...error.extensions, code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
            })
          : error,
      );
    },

    checkVariables(schema, operation, variables) {
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, {
        maxErrors: 50,
      });
      return (coerced.errors ?? []).map(
        (error) =>
          new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } }),
      );
    },

    admit(operation, transport, subject) {
      if (operation === OperationTypeNode.SUBSCRIPTION && transport === "http") {
        throw new GraphQLError("Subscriptions are served over a WebSocket (graphql-ws protocol) at /graphql", {
          extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } },
        });
      }
      if (options.rateLimiter === undefined) return;
      const decision = options.rateLimiter.take(rateLimitKeyOf(subject));
      if (decision.allowed) return;
      throw new GraphQLError(`Rate limit exceeded; retry in ${decision.retryAfterSeconds} s`, {
        extensions: {
          code: ErrorCode.RATE_LIMITED,
          retryAfterSeconds: decision.retryAfterSeconds,
          http: { status: 429, headers: new Map([["retry-after", String(decision.retryAfterSeconds)]]) },
        },
      });
    },
  };
}

/**
 * User ids never contain control characters (the verifier refuses them), so
 * the NUL-prefixed bucket of anonymous clients cannot be claimed by a user.
 */
function rateLimitKeyOf(subject: RateLimitSubject): string {
  return "user" in subject ? subject.user.id : `\u0000anonymous:${subject.clientAddress ?? "unknown"}`;
}
