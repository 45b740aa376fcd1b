/** Abusive documents and request floods get specific errors, and the server stays responsive. */
import { MeDocument } from "../../generated/graphql";
import { asUser, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";

async function postRaw(server: TestServer, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...asUser("abuser"), ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as {
      errors?: { message: string; extensions?: Record<string, unknown> }[];
      data?: unknown;
    },
  };
}

describe("document limits", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it("refuses a document nested deeper than 10 levels (deep introspection)", async () => {
    const deep = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } }`;
    const { status, body } = await postRaw(server, { query: deep });

    expect(status).toBe(400);
    expect(body.errors?.[0].extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "depth", max: 10 });
  });

  it("refuses more than 30 aliases", async () => {
    const aliases = Array.from({ length: 31 }, (_, index) => `a${index}: me { id }`).join(" ");
    const { body } = await postRaw(server, { query: `{ ${aliases} }` });

    expect(body.errors?.[0].extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "aliases" });
  });

  it("refuses a document whose list pages multiply past the cost limit", async () => {
    const page =
      "todos(first: 100) { edges { cursor node { id title description completed priority dueAt createdAt updatedAt } } }";
    const { body } = await postRaw(server, { query: `{ a: ${page} b: ${page} c: ${page} d: ${page} e: ${page} }` });

    expect(body.errors?.[0].extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "cost", max: 5000 });
  });

  it("accepts an ordinary page of todos", async () => {
    const { status, body } = await postRaw(server, { query: "{ todos(first: 100) { edges { node { id title } } } }" });

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });

  it("refuses batched requests", async () => {
    const { status } = await postRaw(server, [{ query: "{ me { id } }" }, { query: "{ me { id } }" }]);

    expect(status).toBe(400);
  });

  it("still answers normal requests after all of that", async () => {
    const response = await postGraphQL(server.origin, MeDocument, {}, asUser("bystander"));

    expect(response.body.data?.me.id).toBe("bystander");
  });
});

describe("per-user rate limiting", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: "60", RATE_LIMIT_BURST: "3" } });
  });
  afterAll(() => server.stop());

  it("answers RATE_LIMITED (HTTP 429, Retry-After) once a user's burst is spent, without slowing other users", async () => {
    const flood = [];
    for (let index = 0; index < 4; index += 1)
      flood.push(await postGraphQL(server.origin, MeDocument, {}, asUser("flooder")));
    const neighbour = await postGraphQL(server.origin, MeDocument, {}, asUser("neighbour"));

    expect(flood.slice(0, 3).map((response) => response.status)).toEqual([200, 200, 200]);
    const limited = flood[3];
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.body.errors?.[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: 1 });
    expect(neighbour.body.data?.me.id).toBe("neighbour");
  });
});
