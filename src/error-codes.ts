/**
 * Every `extensions.code` the API answers with, on HTTP and WebSocket alike.
 * Clients branch on these strings: add codes, never rename one.
 */
export const ErrorCode = {
  /** A token is missing where one is required, or is invalid (HTTP 401 when one was sent). */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  /** An argument or input field broke a rule; `extensions.field` names it. */
  BAD_USER_INPUT: "BAD_USER_INPUT",
  /** The request itself is malformed (not JSON, a subscription over HTTP, a persisted-query mismatch). */
  BAD_REQUEST: "BAD_REQUEST",
  GRAPHQL_PARSE_FAILED: "GRAPHQL_PARSE_FAILED",
  /** Apollo's: `operationName` names no operation of the document. */
  OPERATION_RESOLUTION_FAILURE: "OPERATION_RESOLUTION_FAILURE",
  /** Apollo's automatic persisted queries: send the full query once (not found is the protocol's normal first step). */
  PERSISTED_QUERY_NOT_FOUND: "PERSISTED_QUERY_NOT_FOUND",
  /** Invalid against the schema, or over a document limit (then with `extensions.limit` and `max`). */
  GRAPHQL_VALIDATION_FAILED: "GRAPHQL_VALIDATION_FAILED",
  RATE_LIMITED: "RATE_LIMITED",
  /** A WebSocket already carries as many operations as it may. */
  TOO_MANY_SUBSCRIPTIONS: "TOO_MANY_SUBSCRIPTIONS",
  EVENT_PUBLISH_FAILED: "EVENT_PUBLISH_FAILED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /** A fault of ours; the message is masked and the cause is only in the log. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
