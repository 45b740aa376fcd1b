/**
 * A `todoEvents` subscription that outlives its socket. It remembers the last sequence it handed
 * on and, whenever the socket is lost (closed, cut, or silent past the keep-alive), subscribes
 * again with `afterSequence` set to it: the server replays from its event log what was missed,
 * in order, then goes on live. Sequences only grow, so anything at or below the last one is a
 * repeat and is dropped.
 */
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { TodoEventsDocument, type TodoEventsSubscription } from "./generated/graphql";

export type TodoEvent = TodoEventsSubscription["todoEvents"];

export interface TodoEventStreamOptions {
  /** ws(s)://host/graphql */
  readonly url: string;
  readonly token: string;
  /** The last sequence seen before this start (0: replay everything retained). */
  readonly afterSequence: number;
  /** Called once per event, in sequence order. */
  readonly onEvent: (event: TodoEvent) => void;
  /** Connection news for the operator: connected, lost, resuming. */
  readonly onStatus?: (message: string) => void;
  /** How often to ping the server; a socket with no pong by the next ping is taken as lost. */
  readonly keepAliveMs?: number;
  /** Waits between reconnects: doubling from the first to the most. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
}

export interface TodoEventStream {
  lastSequence(): number;
  /** Settles when the stream is closed, or rejects when it cannot go on (a refused token, an expired cursor). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** Close codes after which trying again cannot help. */
const FATAL_CLOSE_CODES: Readonly<Record<number, string>> = {
  4403: "the token is missing, invalid or expired",
};

export function streamTodoEvents(options: TodoEventStreamOptions): TodoEventStream {
  const status = options.onStatus ?? (() => undefined);
  const retry = options.retry ?? { firstMs: 250, maxMs: 5000 };
  let last = options.afterSequence;
  let waitMs = retry.firstMs;
  let closed = false;
  let reconnect: NodeJS.Timeout | undefined;
  let unsubscribe: () => void = () => undefined;
  let settle!: { resolve: () => void; reject: (error: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  const client = connect(options, status);

  const fail = (error: Error): void => {
    closed = true;
    unsubscribe();
    void client.dispose();
    settle.reject(error);
  };

  const resumeLater = (why: string): void => {
    status(`${why}; resuming after sequence ${last} in ${waitMs} ms`);
    reconnect = setTimeout(subscribe, waitMs);
    waitMs = Math.min(retry.maxMs, waitMs * 2);
  };

  function subscribe(): void {
    if (closed) return;
    unsubscribe = client.subscribe<TodoEventsSubscription>(
      { query: print(TodoEventsDocument), variables: { afterSequence: last } },
      {
        next: (result) => {
          if (result.errors !== undefined && result.errors.length > 0) {
            fail(new Error(result.errors.map((error) => describeError(error)).join("; ")));
            return;
          }
          const event = result.data?.todoEvents;
          if (event === undefined) return;
          waitMs = retry.firstMs;
          // Events of other producers carry no sequence (0): hand them on, they move no cursor.
          if (event.sequence !== 0 && event.sequence <= last) return;
          options.onEvent(event);
          if (event.sequence > last) last = event.sequence;
        },
        error: (error: unknown) => {
          if (closed) return;
          // An array is the server refusing the operation itself (e.g. CURSOR_EXPIRED).
          if (Array.isArray(error)) {
            fail(new Error(error.map((item) => describeError(item as { message: string })).join("; ")));
            return;
          }
          const code = (error as { code?: number }).code;
          if (code !== undefined && FATAL_CLOSE_CODES[code] !== undefined) {
            fail(new Error(`the server closed the socket with ${code}: ${FATAL_CLOSE_CODES[code]}`));
            return;
          }
          resumeLater(`connection lost (${code ?? (error as Error).message})`);
        },
        complete: () => {
          if (!closed) resumeLater("the server ended the subscription");
        },
      },
    );
  }

  subscribe();
  return {
    lastSequence: () => last,
    done,
    async close() {
      closed = true;
      clearTimeout(reconnect);
      unsubscribe();
      await client.dispose();
      settle.resolve();
    },
  };
}

/** A lazy graphql-ws client that never retries by itself (the stream resumes with the right cursor instead). */
function connect(options: TodoEventStreamOptions, status: (message: string) => void): Client {
  const keepAliveMs = options.keepAliveMs ?? 10_000;
  let socket: WebSocket | undefined;
  let pongDue: NodeJS.Timeout | undefined;
  return createClient({
    url: options.url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.token}` },
    lazy: true,
    retryAttempts: 0,
    keepAlive: keepAliveMs,
    on: {
      connected: (connected) => {
        socket = connected as WebSocket;
        status("connected");
      },
      ping: (received) => {
        if (received) return;
        // A cut that sent no FIN (a dead route, a frozen peer) shows only as silence. terminate(),
        // not close(): a closing handshake would wait for the silent peer too.
        pongDue = setTimeout(() => socket?.terminate(), keepAliveMs);
      },
      pong: (received) => {
        if (received) clearTimeout(pongDue);
      },
      closed: () => clearTimeout(pongDue),
    },
  });
}

function describeError(error: { message: string; extensions?: Record<string, unknown> }): string {
  const code = error.extensions?.code;
  return typeof code === "string" ? `${code}: ${error.message}` : error.message;
}
