/**
 * POSTs arbitrary bodies to /graphql, for documents the typed helpers cannot express: malformed,
 * hostile, or not GraphQL at all. The answer is returned as sent, whatever it is.
 */
import type { FormattedExecutionResult } from "graphql";

export interface RawHttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The response body as text, for failure messages. */
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly body: FormattedExecutionResult | undefined;
}

export interface RawRequestOptions {
  readonly headers?: Record<string, string>;
  /** Aborts the request; a wedged server then fails the test instead of hanging it. */
  readonly timeoutMs?: number;
}

/** Sends `body` JSON-encoded (or as is, when it is a string) to `origin`/graphql. */
export async function postRaw(origin: string, body: unknown, options: RawRequestOptions = {}): Promise<RawHttpAnswer> {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...options.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: parseJson(text) };
}

/** One document (and optional variables) as a standard GraphQL-over-HTTP POST. */
export function postDocument(
  origin: string,
  query: string,
  variables?: Record<string, unknown>,
  options: RawRequestOptions = {},
): Promise<RawHttpAnswer> {
  return postRaw(origin, variables === undefined ? { query } : { query, variables }, options);
}

function parseJson(text: string): FormattedExecutionResult | undefined {
  try {
    return JSON.parse(text) as FormattedExecutionResult;
  } catch {
    return undefined;
  }
}
