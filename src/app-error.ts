/**
 * Domain errors carry a stable code; the GraphQL layer maps codes to
 * `extensions.code` in one place (src/graphql/format-error.ts).
 */
export type AppErrorCode =
  "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT" | "EVENT_PUBLISH_FAILED" | "RATE_LIMITED";

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Safe, client-visible extra fields (never internals). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A client-supplied value broke a rule; `field` names the offending input. */
export class InvalidInputError extends AppError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super("BAD_USER_INPUT", `${field} ${reason}`, { field });
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super("NOT_FOUND", `${what} not found`);
  }
}
