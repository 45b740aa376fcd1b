/**
 * The one place where errors become GraphQL `extensions.code`s. Domain errors
 * keep their code and message; anything unexpected is masked so no stack,
 * SQL or path reaches a client (it is logged by `errorLoggingPlugin`).
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { AppError } from "../app-error";

export const INTERNAL_ERROR_MESSAGE = "Internal server error";

export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { locations: formatted.locations, path: formatted.path };

  if (original instanceof AppError) {
    return { message: original.message, ...where, extensions: { ...original.extensions, code: original.code } };
  }
  if (original instanceof ArgumentValidationError) {
    return { message: describeValidationErrors(original), ...where, extensions: { code: "BAD_USER_INPUT" } };
  }
  if (original instanceof GraphQLError || !(original instanceof Error)) {
    const { code, stacktrace: _stacktrace, ...safe } = formatted.extensions ?? {};
    if (code === undefined || code === "INTERNAL_SERVER_ERROR") return masked(where);
    // type-graphql reports a failed role check as UNAUTHORIZED; our contract says FORBIDDEN.
    const publicCode = code === "UNAUTHORIZED" ? "FORBIDDEN" : code;
    return { message: formatted.message, ...where, extensions: { ...safe, code: publicCode } };
  }
  return masked(where);
}

/** Errors the client caused or is told about on purpose; everything else is a bug worth a stack in the log. */
export function isExpectedError(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) return true;
  if (!(original instanceof GraphQLError)) return false;
  const code = original.extensions?.code;
  return code !== undefined && code !== "INTERNAL_SERVER_ERROR";
}

function masked(where: Pick<GraphQLFormattedError, "locations" | "path">): GraphQLFormattedError {
  return { message: INTERNAL_ERROR_MESSAGE, ...where, extensions: { code: "INTERNAL_SERVER_ERROR" } };
}

interface ValidationFailure {
  property: string;
  constraints?: Record<string, string>;
  children?: ValidationFailure[];
}

/** "input.title: must be shorter than 200 characters" — names the field without echoing the value. */
function describeValidationErrors(error: ArgumentValidationError): string {
  const failures = (error.extensions.validationErrors ?? []) as ValidationFailure[];
  const lines: string[] = [];
  const visit = (failure: ValidationFailure, prefix: string): void => {
    const path = prefix === "" ? failure.property : `${prefix}.${failure.property}`;
    for (const message of Object.values(failure.constraints ?? {})) lines.push(`${path}: ${message}`);
    for (const child of failure.children ?? []) visit(child, path);
  };
  for (const failure of failures) visit(failure, "");
  return lines.length === 0 ? "Invalid input" : `Invalid input: ${lines.join("; ")}`;
}
