/**
 * Runs operations over graphql-ws the way a browser client would, and hands back what the server
 * answered: a result, the errors of an `error` message, or the socket's close. The client never
 * reconnects, so every close the server decides is visible to the test.
 */
import type { FormattedExecutionResult, GraphQLFormattedError } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { Closed } from "./deliveries";

export type { Closed } from "./deliveries";

/** The socket closed before the operation was answered. */
export class SocketClosedError extends Error {
  constructor(readonly closed: Closed) {
    super(`the socket closed before an answer (${closed.code} ${closed.reason})`);
  }
}

export type SocketEvent =
  | { readonly type: "next"; readonly result: FormattedExecutionResult }
  /** An `error` message: the operation was refused, its payload is the list of errors. */
  | { readonly type: "error"; readonly errors: readonly GraphQLFormattedError[] }
  | { readonly type: "complete" }
  | { readonly type: "closed"; readonly closed: Closed };

/** Which message answered an operation, and what it carried. */
export interface SocketAnswer {
  /** `next`: a result (possibly with errors); `error`: the operation was refused before or instead of a result. */
  readonly message: "next" | "error";
  readonly result: FormattedExecutionResult;
}

export interface RunOptions {
  /** Gives up (rejecting) when nothing has answered by then. */
  readonly timeoutMs?: number;
}

export interface GraphQLSocket {
  /** Resolves once the server acknowledged the connection; rejects with SocketClosedError if it closed first. */
  readonly connected: Promise<void>;
  /** Resolves when the socket closes, for whatever reason. */
  readonly closed: Promise<Closed>;
  /**
   * Runs one query or mutation. Its errors, whether from an `error` message or in the result, come
   * back as `errors`; a close before the answer rejects with SocketClosedError.
   */
  run(query: string, variables?: Record<string, unknown>, options?: RunOptions): Promise<FormattedExecutionResult>;
  /** Like `run`, and says whether the answer was a result or an `error` message. */
  answerTo(query: string, variables?: Record<string, unknown>, options?: RunOptions): Promise<SocketAnswer>;
  /** Starts an operation and reports each message for it; returns the function that stops it. */
  subscribe(
    query: string,
    variables: Record<string, unknown> | undefined,
    onEvent: (event: SocketEvent) => void,
  ): () => void;
  /** Closes the socket normally and waits for the close. */
  dispose(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** Opens a graphql-ws socket to `origin`/graphql; `authorization` ("Bearer …") travels in connectionParams. */
export function openSocket(origin: string, authorization?: string): GraphQLSocket {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  let closedAs: Closed | undefined;
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    void closed.then((event) => reject(new SocketClosedError(event)));
  });
  // Callers that never await `connected` must not see an unhandled rejection when the server refuses them.
  connected.catch(() => undefined);

  const client: Client = createClient({
    url: `${origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
    // Closes are reported through `closed`; the default handler would print them.
    onNonLazyError: () => undefined,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: unknown };
        closedAs = { code, reason: String(reason) };
        onClosed(closedAs);
      },
    },
  });

  const subscribe = (
    query: string,
    variables: Record<string, unknown> | undefined,
    onEvent: (event: SocketEvent) => void,
  ): (() => void) => {
    if (closedAs !== undefined) {
      onEvent({ type: "closed", closed: closedAs });
      return () => undefined;
    }
    return client.subscribe(variables === undefined ? { query } : { query, variables }, {
      next: (result) => onEvent({ type: "next", result: result as FormattedExecutionResult }),
      error: (error) => {
        if (Array.isArray(error)) onEvent({ type: "error", errors: error as GraphQLFormattedError[] });
        else onEvent({ type: "closed", closed: closedAs ?? closeOf(error) });
      },
      complete: () => onEvent({ type: "complete" }),
    });
  };

  const answerTo = (
    query: string,
    variables?: Record<string, unknown>,
    options: RunOptions = {},
  ): Promise<SocketAnswer> =>
    new Promise((resolve, reject) => {
      let result: FormattedExecutionResult | undefined;
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`no answer over the socket within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (outcome: () => void): void => {
        clearTimeout(timer);
        outcome();
      };
      const unsubscribe = subscribe(query, variables, (event) => {
        switch (event.type) {
          case "next":
            result = event.result;
            return;
          case "error":
            return settle(() => resolve({ message: "error", result: { errors: [...event.errors] } }));
          case "complete":
            return settle(() =>
              result === undefined
                ? reject(new Error("the operation completed without a result"))
                : resolve({ message: "next", result }),
            );
          case "closed":
            return settle(() => reject(new SocketClosedError(event.closed)));
        }
      });
    });

  const run = async (
    query: string,
    variables?: Record<string, unknown>,
    options?: RunOptions,
  ): Promise<FormattedExecutionResult> => (await answerTo(query, variables, options)).result;

  return {
    connected,
    closed,
    run,
    answerTo,
    subscribe,
    async dispose() {
      await client.dispose();
      // A socket that never opened has nothing left to close.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))]);
    },
  };
}

/** Opens a socket, runs one operation on it and closes it. */
export async function runOverSocket(
  origin: string,
  authorization: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  options?: RunOptions,
): Promise<FormattedExecutionResult> {
  const socket = openSocket(origin, authorization);
  try {
    return await socket.run(query, variables, options);
  } finally {
    await socket.dispose();
  }
}

function closeOf(error: unknown): Closed {
  if (typeof error === "object" && error !== null && "code" in error) {
    const { code, reason } = error as { code: unknown; reason?: string };
    return { code: Number(code), reason: reason ?? "" };
  }
  return { code: 0, reason: error instanceof Error ? error.message : String(error) };
}
