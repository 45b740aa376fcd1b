/**
 * Domain errors carry a stable code; the GraphQL layer maps codes to
 * `extensions.code` in one place (src/graphql/format-error.ts).
 */
import { ErrorCode } from "./error-codes";

/** The codes a domain error may carry. */
export type AppErrorCode =
  | typeof ErrorCode.NOT_FOUND
  | typeof ErrorCode.BAD_USER_INPUT
  | typeof ErrorCode.EVENT_PUBLISH_FAILED
  | typeof ErrorCode.CURSOR_EXPIRED
  | typeof ErrorCode.SERVICE_UNAVAILABLE;

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
    super(ErrorCode.BAD_USER_INPUT, `${field} ${reason}`, { field });
  }
}

export class NotFoundError extends AppError {
  constructor(what: string) {
    super(ErrorCode.NOT_FOUND, `${what} not found`);
  }
}
