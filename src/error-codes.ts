/**
 * Every `extensions.code` the API answers with, on HTTP and WebSocket alike,
 * with the HTTP status it is sent with where it has one of its own (codes
 * without one arrive in a 200 or 400 GraphQL response, as the GraphQL-over-HTTP
 * convention has it). Clients branch on these strings: add codes, never rename
 * one. The README's error table is checked against this list by a test.
 */
export const ERROR_CATALOGUE = {
  /** A token is missing where one is required (200), or is present but invalid (401). */
  UNAUTHENTICATED: { httpStatus: 401 },
  NOT_FOUND: { httpStatus: 404 },
  /** An argument or input field broke a rule; `extensions.field` names it. */
  BAD_USER_INPUT: {},
  /** The request itself is malformed (not JSON, a subscription over HTTP, a persisted-query mismatch). */
  BAD_REQUEST: { httpStatus: 400 },
  GRAPHQL_PARSE_FAILED: { httpStatus: 400 },
  /** Invalid against the schema, or over a document limit (then with `extensions.limit` and `max`). */
  GRAPHQL_VALIDATION_FAILED: { httpStatus: 400 },
  /** Apollo's: `operationName` names no operation of the document. */
  OPERATION_RESOLUTION_FAILURE: { httpStatus: 400 },
  /** Apollo's automatic persisted queries: the hash is unknown, send the query with it once. */
  PERSISTED_QUERY_NOT_FOUND: {},
  RATE_LIMITED: { httpStatus: 429 },
  /** A WebSocket already carries as many operations as it may. */
  TOO_MANY_SUBSCRIPTIONS: {},
  EVENT_PUBLISH_FAILED: {},
  /** A subscription's `afterSequence` is older than the retained log: resubscribe without it (or from history). */
  CURSOR_EXPIRED: {},
  PAYLOAD_TOO_LARGE: { httpStatus: 413 },
  SHUTTING_DOWN: { httpStatus: 503 },
  /**
   * The database cannot serve the request now: its storage is full (`extensions.reason:
   * "storage_full"`, nothing was written) or it is unreachable (`"database_unreachable"`).
   */
  SERVICE_UNAVAILABLE: {},
  /** A fault of ours; the message is masked and the cause is only in the log. */
  INTERNAL_SERVER_ERROR: { httpStatus: 500 },
} as const satisfies Record<string, { readonly httpStatus?: number }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** `ErrorCode.NOT_FOUND` and so on, so a code is never a loose string. */
export const ErrorCode = Object.fromEntries(Object.keys(ERROR_CATALOGUE).map((code) => [code, code])) as {
  readonly [Code in ErrorCode]: Code;
};

/** The body of an error answered outside GraphQL (HTTP routes), in the same shape as a GraphQL error. */
export function errorBody(
  message: string,
  code: ErrorCode,
): { errors: { message: string; extensions: { code: ErrorCode } }[] } {
  return { errors: [{ message, extensions: { code } }] };
}
