import { postHeadersOnly } from "../../support/deliveries";
import { MeDocument, TriggerTodoEventDocument } from "../../generated/graphql";
import { createTodoAs, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";
import { hsToken, nowSeconds, tokenFor } from "../../support/tokens";

describe("GraphQL over HTTP", () => {
  let server: TestServer;
  let triggerVariables: { taskId: number; input: { action: string; details: { title: string } } };
  beforeAll(async () => {
    server = await startTestServer();
    const taskId = await createTodoAs(server.origin, "user-456");
    triggerVariables = { taskId, input: { action: "task_created", details: { title: "Sample task" } } };
  });
  afterAll(() => server.stop());

  it("publishes an event for a valid bearer token and returns its id", async () => {
    const response = await postGraphQL(server.origin, TriggerTodoEventDocument, triggerVariables, {
      authorization: `Bearer ${tokenFor("user-456")}`,
    });

    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const eventId = response.body.data?.triggerTodoEvent.eventId;
    expect(server.publisher.published.at(-1)?.payload).toMatchObject({
      event_id: eventId,
      user_id: "user-456",
      task_id: triggerVariables.taskId,
    });
  });

  describe("authentication", () => {
    it.each([
      ["an expired token", () => hsToken({ sub: "u", exp: nowSeconds() - 120 }), "token expired"],
      ["a token signed with another secret", () => hsToken({ sub: "u" }, {}, "x".repeat(40)), "invalid signature"],
      ["a malformed token", () => "not.a.jwt", "malformed token"],
    ])("answers 401 UNAUTHENTICATED for %s, with a short reason", async (_case, makeToken, reason) => {
      const response = await postGraphQL(server.origin, MeDocument, {}, { authorization: `Bearer ${makeToken()}` });

      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(response.body.errors).toEqual([
        { message: `Unauthenticated: ${reason}`, extensions: { code: "UNAUTHENTICATED" } },
      ]);
    });

    it("answers 401 for an Authorization header that is not a bearer credential", async () => {
      const response = await postGraphQL(server.origin, MeDocument, {}, { authorization: "Basic dXNlcjpwYXNz" });

      expect(response.status).toBe(401);
      expect(response.body.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    });

    it("does not publish when the token is invalid", async () => {
      const before = server.publisher.attempts;
      await postGraphQL(server.origin, TriggerTodoEventDocument, triggerVariables, {
        authorization: "Bearer bad.token.here",
      });

      expect(server.publisher.attempts).toBe(before);
    });

    it("answers UNAUTHENTICATED (HTTP 200, GraphQL error) for a protected field without a token", async () => {
      const response = await postGraphQL(server.origin, MeDocument, {});

      expect(response.status).toBe(200);
      expect(response.body.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    });
  });

  it("answers EVENT_PUBLISH_FAILED when publishing fails, and keeps serving", async () => {
    server.publisher.failNext(1);
    const headers = { authorization: `Bearer ${tokenFor("user-456")}` };

    const failed = await postGraphQL(server.origin, TriggerTodoEventDocument, triggerVariables, headers);
    const next = await postGraphQL(server.origin, TriggerTodoEventDocument, triggerVariables, headers);

    expect(failed.body.errors?.[0]).toMatchObject({
      message: "Failed to publish event",
      extensions: { code: "EVENT_PUBLISH_FAILED" },
    });
    expect(next.body.data?.triggerTodoEvent.success).toBe(true);
  });

  describe("CSRF prevention", () => {
    it("blocks a GET operation without a preflight-forcing header", async () => {
      const response = await fetch(`${server.origin}/graphql?query=${encodeURIComponent("{ me { id } }")}`);

      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
    });

    it("blocks a simple text/plain POST", async () => {
      const response = await fetch(`${server.origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ query: "{ me { id } }" }),
      });

      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/Cross-Site Request Forgery/);
    });

    it("allows a GET operation that sets apollo-require-preflight", async () => {
      const response = await fetch(`${server.origin}/graphql?query=${encodeURIComponent("{ me { id } }")}`, {
        headers: { "apollo-require-preflight": "true", authorization: `Bearer ${tokenFor("user-9")}` },
      });

      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { me: { id: "user-9" } } });
    });
  });

  describe("malformed requests", () => {
    it("answers 413 with a JSON error for a body over the limit", async () => {
      const response = await fetch(`${server.origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ me { id } }", variables: { blob: "x".repeat(100 * 1024) } }),
      });

      expect(response.status).toBe(413);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    });

    it("answers 413 to a body declared over the limit before reading it, and closes the connection", async () => {
      const answer = await postHeadersOnly(server.origin, "/graphql", 1024 * 1024 * 1024, {
        "content-type": "application/json",
      });

      expect(answer.status).toBe(413);
      expect(answer.headers.connection).toBe("close");
      expect(answer.body).toEqual({
        errors: [
          { message: "Request body exceeds the limit of 65536 bytes", extensions: { code: "PAYLOAD_TOO_LARGE" } },
        ],
      });
    });

    it("answers 400 with a JSON error for malformed JSON, without a stack trace", async () => {
      const response = await fetch(`${server.origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{ not json",
      });
      const text = await response.text();

      expect(response.status).toBe(400);
      expect(JSON.parse(text).errors[0].extensions.code).toBe("BAD_REQUEST");
      expect(text).not.toMatch(/at .*\.(js|ts):\d+/);
    });

    it("answers 400 BAD_USER_INPUT for a variable of the wrong type", async () => {
      const response = await postGraphQL(
        server.origin,
        TriggerTodoEventDocument,
        { ...triggerVariables, taskId: "abc" as never },
        {
          authorization: `Bearer ${tokenFor("user-456")}`,
        },
      );

      expect(response.status).toBe(400);
      expect(response.body.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    });
  });

  describe("request ids", () => {
    it("echoes a sane client x-request-id", async () => {
      const response = await postGraphQL(server.origin, MeDocument, {}, { "x-request-id": "client-req-1" });
      expect(response.headers.get("x-request-id")).toBe("client-req-1");
    });

    it("replaces an unsafe one with a generated id", async () => {
      const response = await postGraphQL(server.origin, MeDocument, {}, { "x-request-id": "bad id <script>" });
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  it("passes a well-formed traceparent on to the publisher", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await postGraphQL(server.origin, TriggerTodoEventDocument, triggerVariables, {
      authorization: `Bearer ${tokenFor("user-456")}`,
      traceparent,
    });

    expect(server.publisher.published.at(-1)?.metadata["cloudevent.traceparent"]).toBe(traceparent);
  });
});

describe("health endpoints", () => {
  it("/healthz answers while the process is up, /readyz reports the sidecar without failing", async () => {
    const server = await startTestServer({ sidecar: "unreachable" });
    try {
      const health = await fetch(`${server.origin}/healthz`);
      const ready = await fetch(`${server.origin}/readyz`);

      expect(health.status).toBe(200);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: "ready",
        checks: {
          dapr: "unreachable",
          database: "reachable",
          storage: { state: "ok" },
          outbox: { pending: 0, oldestPendingAgeMs: null, span: 0 },
        },
      });
    } finally {
      await server.stop();
    }
  });
});
