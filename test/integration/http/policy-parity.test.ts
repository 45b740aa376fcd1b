/**
 * Every request policy holds on both transports with the same outcome and the
 * same code: one table of cases, each run over HTTP and over the WebSocket
 * against a production-mode server.
 */
import { postDocument } from "../../support/raw-graphql";
import { runOverSocket, SocketClosedError } from "../../support/graphql-ws-client";
import { startTestServer, type TestServer } from "../../support/test-server";
import jwt from "jsonwebtoken";
import { hsToken, nowSeconds, TEST_JWT_SECRET, tokenFor } from "../../support/tokens";

type Transport = "http" | "websocket";
const TRANSPORTS: readonly Transport[] = ["http", "websocket"];

/** What a client can observe, reduced to what both transports must agree on. */
interface Outcome {
  /** `extensions.code` of the first error, or "REFUSED_CONNECTION" when the socket was closed with 4403. */
  readonly code?: string;
  readonly limit?: unknown;
  readonly message?: string;
  readonly retryAfterSeconds?: unknown;
  readonly data?: unknown;
}

async function send(
  transport: Transport,
  server: TestServer,
  query: string,
  variables?: Record<string, unknown>,
  authorization: string | undefined = `Bearer ${tokenFor("parity")}`,
): Promise<Outcome> {
  let result;
  if (transport === "http") {
    result = (
      await postDocument(server.origin, query, variables, {
        headers: authorization === undefined ? {} : { authorization },
      })
    ).body;
  } else {
    try {
      result = await runOverSocket(server.origin, authorization, query, variables);
    } catch (error) {
      // The WebSocket refuses a bad token at connection time, before any operation can carry a code.
      if (error instanceof SocketClosedError && error.closed.code === 4403) return { code: "REFUSED_CONNECTION" };
      throw error;
    }
  }
  // A document can break several rules; the limit, when one was hit, is what the client must see.
  const first = result?.errors?.find((error) => error.extensions?.limit !== undefined) ?? result?.errors?.[0];
  if (first === undefined) return { data: result?.data };
  return {
    code: first.extensions?.code as string | undefined,
    limit: first.extensions?.limit,
    message: first.message,
    retryAfterSeconds: first.extensions?.retryAfterSeconds,
  };
}

const repeat = (count: number, text: string): string => Array.from({ length: count }, () => text).join(" ");

interface PolicyCase {
  readonly policy: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly authorization?: string;
  readonly expected: Partial<Outcome> & { code: string };
}

const CASES: readonly PolicyCase[] = [
  {
    policy: "depth limit",
    query:
      "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }",
    expected: { code: "GRAPHQL_VALIDATION_FAILED", limit: "depth" },
  },
  {
    policy: "alias limit",
    query: `{ ${Array.from({ length: 31 }, (_, index) => `a${index}: me { id }`).join(" ")} }`,
    expected: { code: "GRAPHQL_VALIDATION_FAILED", limit: "aliases" },
  },
  {
    policy: "cost limit",
    query: `{ ${repeat(8, "todos(first: 100) { edges { node { id title description completed priority } } }")
      .split(" todos")
      .map((page, index) => (index === 0 ? page : `p${index}: todos${page}`))
      .join(" ")} }`,
    expected: { code: "GRAPHQL_VALIDATION_FAILED", limit: "cost" },
  },
  {
    policy: "token limit",
    query: `{ ${repeat(2100, "__typename")} }`,
    expected: { code: "GRAPHQL_VALIDATION_FAILED", limit: "tokens" },
  },
  {
    policy: "directive limit",
    query: `{ ${repeat(51, "__typename @include(if: true)")} }`,
    expected: { code: "GRAPHQL_VALIDATION_FAILED", limit: "directives" },
  },
  {
    policy: "introspection off",
    query: "{ __schema { queryType { name } } }",
    expected: { code: "GRAPHQL_VALIDATION_FAILED", message: "GraphQL introspection is not allowed on this server" },
  },
  {
    policy: "field suggestions hidden",
    query: "{ me { idd } }",
    expected: { code: "GRAPHQL_VALIDATION_FAILED", message: 'Cannot query field "idd" on type "User".' },
  },
  {
    policy: "variable suggestions hidden",
    query: "mutation ($input: CreateTodoInput!) { createTodo(input: $input) { id } }",
    variables: { input: { title: "t", priority: "HIGHH" } },
    expected: {
      code: "BAD_USER_INPUT",
      message:
        'Variable "$input" got invalid value "HIGHH" at "input.priority"; Value "HIGHH" does not exist in "Priority" enum.',
    },
  },
  {
    policy: "NOT_FOUND for a todo that is not the caller's",
    query: "mutation { completeTodo(id: 987654) { id } }",
    expected: { code: "NOT_FOUND" },
  },
  {
    policy: "BAD_USER_INPUT naming the field",
    query: 'mutation { triggerTodoEvent(taskId: 1, input: { action: "Not An Action" }) { success } }',
    expected: { code: "BAD_USER_INPUT" },
  },
  {
    policy: "identity fields refused in details",
    query:
      'mutation { triggerTodoEvent(taskId: 1, input: { action: "task_updated", details: { user_id: "mallory" } }) { success } }',
    expected: { code: "BAD_USER_INPUT" },
  },
  {
    policy: "search length",
    query: "query ($search: String) { todos(filter: { search: $search }) { edges { cursor } } }",
    variables: { search: "x".repeat(30_000) },
    expected: { code: "BAD_USER_INPUT" },
  },
  {
    policy: "token expiry",
    query: "{ me { id } }",
    authorization: `Bearer ${hsToken({ sub: "parity", exp: nowSeconds() - 60 })}`,
    expected: { code: "UNAUTHENTICATED" },
  },
  {
    policy: "token without an expiry",
    query: "{ me { id } }",
    authorization: `Bearer ${jwt.sign({ sub: "parity" }, TEST_JWT_SECRET, { algorithm: "HS256" })}`,
    expected: { code: "UNAUTHENTICATED" },
  },
];

/** The WebSocket answers a refused token by closing with 4403; HTTP with 401 UNAUTHENTICATED. */
function expectedOver(transport: Transport, expected: PolicyCase["expected"]): Partial<Outcome> {
  return transport === "websocket" && expected.code === "UNAUTHENTICATED" ? { code: "REFUSED_CONNECTION" } : expected;
}

describe("one request policy on HTTP and WebSocket (production)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "0" } });
  });
  afterAll(() => server.stop());

  describe.each(CASES)("$policy", ({ query, variables, authorization, expected }) => {
    const outcomes = new Map<Transport, Outcome>();

    it.each(TRANSPORTS)("is enforced over %s", async (transport) => {
      const outcome = await send(transport, server, query, variables, authorization);
      outcomes.set(transport, outcome);

      expect(outcome).toMatchObject(expectedOver(transport, expected));
      expect(outcome.message ?? "").not.toMatch(/Did you mean/);
    });

    it("gives the same answer on both", () => {
      const [http, websocket] = TRANSPORTS.map((transport) => outcomes.get(transport));
      expect(http).toBeDefined();
      if (expected.code === "UNAUTHENTICATED") return; // compared with its transport's own form above
      expect(websocket).toEqual(http);
    });
  });
});

describe("the per-user rate limit on HTTP and WebSocket", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "60", RATE_LIMIT_BURST: "3" },
    });
  });
  afterAll(() => server.stop());

  it.each(TRANSPORTS)(
    "answers RATE_LIMITED with retryAfterSeconds over %s once the burst is spent",
    async (transport) => {
      const user = `Bearer ${tokenFor(`limited-${transport}`)}`;
      const outcomes: Outcome[] = [];
      for (let index = 0; index < 5; index += 1) {
        outcomes.push(
          await send(transport, server, 'mutation { createTodo(input: { title: "t" }) { id } }', undefined, user),
        );
      }

      expect(outcomes.slice(0, 3).every((outcome) => outcome.code === undefined)).toBe(true);
      expect(outcomes.slice(3)).toEqual([
        expect.objectContaining({ code: "RATE_LIMITED", retryAfterSeconds: 1 }),
        expect.objectContaining({ code: "RATE_LIMITED", retryAfterSeconds: 1 }),
      ]);
    },
  );

  it("charges both transports to one bucket per user", async () => {
    const user = `Bearer ${tokenFor("both-ways")}`;
    const outcomes: Outcome[] = [];
    for (const transport of ["http", "websocket", "http", "websocket"] as const) {
      outcomes.push(await send(transport, server, "{ me { id } }", undefined, user));
    }

    expect(outcomes.map((outcome) => outcome.code)).toEqual([undefined, undefined, undefined, "RATE_LIMITED"]);
  });
});
