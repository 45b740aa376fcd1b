/**
 * The one place where errors become GraphQL `extensions.code`s. Domain errors
 * keep their code and message; anything unexpected is masked so no stack,
 * SQL or path reaches a client (it is logged by `errorLoggingPlugin`).
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { AppError } from "../app-error";
import { ErrorCode } from "../error-codes";
import type { DocumentLimits } from "../config/config";
import { asTokenLimitError } from "./limits/document-limits";

export const INTERNAL_ERROR_MESSAGE = "Internal server error";

export interface ErrorFormatterOptions {
  /** Strip "Did you mean …?" hints, which would reveal the schema that disabled introspection hides. */
  readonly hideSchemaDetails: boolean;
  readonly documentLimits: DocumentLimits;
}

/** Messages echo the client's values back (an invalid variable, say); a long one is cut. */
const MAX_MESSAGE_LENGTH = 500;

/** graphql-js's own error once a request's variables produced its maximum number of errors. */
const TOO_MANY_VARIABLE_ERRORS = /^Too many errors processing variables/;

/**
 * Errors that graphql-js and Apollo raise without a code although the client caused them: Apollo
 * marks its request errors (persisted-query version or hash mismatch) with an HTTP 4xx status.
 */
function uncodedClientErrorCode(error: GraphQLError): ErrorCode | undefined {
  if (error.extensions.code !== undefined) return undefined;
  if (TOO_MANY_VARIABLE_ERRORS.test(error.message)) return ErrorCode.BAD_USER_INPUT;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500 ? ErrorCode.BAD_REQUEST : undefined;
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

/** graphql-js appends its suggestions as a last sentence, e.g. `Did you mean the enum value "HIGH"?`. */
const SUGGESTION = / ?Did you mean [^]*\?$/;

/** The formatter both transports use: codes and masking first, then the policy's own rewrites. */
export function createErrorFormatter(
  options: ErrorFormatterOptions,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    // Apollo parses with the token limit too; whoever parsed, the client sees one limit error.
    if (original instanceof GraphQLError && formatted.extensions?.code === ErrorCode.GRAPHQL_PARSE_FAILED) {
      const limit = asTokenLimitError(original, options.documentLimits);
      if (limit !== undefined) {
        return {
          message: limit.message,
          extensions: { ...limit.extensions, code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
        };
      }
    }
    const clientCode = original instanceof GraphQLError ? uncodedClientErrorCode(original) : undefined;
    const result =
      clientCode === undefined
        ? formatGraphQLError(formatted, error)
        : { message: formatted.message, locations: formatted.locations, extensions: { code: clientCode } };
    const hidden = options.hideSchemaDetails ? result.message.replace(SUGGESTION, "") : result.message;
    return hidden === result.message && hidden.length <= MAX_MESSAGE_LENGTH
      ? result
      : { ...result, message: truncate(hidden) };
  };
}

export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { locations: formatted.locations, path: formatted.path };

  if (original instanceof AppError) {
    return { message: original.message, ...where, extensions: { ...original.extensions, code: original.code } };
  }
  if (original instanceof GraphQLError || !(original instanceof Error)) {
    const { code, stacktrace: _stacktrace, ...safe } = formatted.extensions ?? {};
    if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) return masked(where);
    return { message: formatted.message, ...where, extensions: { ...safe, code } };
  }
  return masked(where);
}

function masked(where: Pick<GraphQLFormattedError, "locations" | "path">): GraphQLFormattedError {
  return { message: INTERNAL_ERROR_MESSAGE, ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}
