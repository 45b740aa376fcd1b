/**
 * A loopback HTTP server whose answers a test sets per path, for the edge
 * cases of fetching keys (slow, broken, oversized answers). The real proof
 * against an identity provider is the auth tier (Keycloak).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Answer = (request: IncomingMessage, response: ServerResponse) => void;

export interface JsonEndpoints {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Requests received, by path. */
  readonly hits: Map<string, number>;
  answer(path: string, answer: Answer): void;
  close(): Promise<void>;
}

export function json(body: unknown, headers: Record<string, string> = {}): Answer {
  return (_request, response) => {
    response.writeHead(200, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  };
}

export async function startJsonEndpoints(): Promise<JsonEndpoints> {
  const answers = new Map<string, Answer>();
  const hits = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const answer = answers.get(path);
    if (answer === undefined) response.writeHead(404).end();
    else answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    answer: (path, answer) => answers.set(path, answer),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
