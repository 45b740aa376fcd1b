/**
 * A client's mistake is answered with a client code and never logged as our
 * fault: no ERROR line, no stack, no INTERNAL_SERVER_ERROR.
 */
import { createHash } from "node:crypto";
import { postRaw } from "../../support/raw-graphql";
import { errorLines, recordingLogger, type LogLine } from "../../support/recording-logger";
import { startTestServer, type TestServer } from "../../support/test-server";
import { tokenFor } from "../../support/tokens";

const asUser = { authorization: `Bearer ${tokenFor("careless")}` };

describe("client mistakes in production", () => {
  let server: TestServer;
  let lines: LogLine[];
  beforeAll(async () => {
    const recording = recordingLogger();
    lines = recording.lines;
    server = await startTestServer({ env: { NODE_ENV: "production" }, logger: recording.logger });
  });
  afterAll(() => server.stop());
  afterEach(() => {
    const logged = lines.splice(0);
    expect(errorLines(logged)).toEqual([]);
  });

  it("answers a subscription sent over HTTP POST with BAD_REQUEST pointing to the WebSocket", async () => {
    const answer = await postRaw(
      server.origin,
      { query: "subscription { todoEvents { eventId } }" },
      { headers: asUser },
    );

    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/WebSocket/),
      extensions: { code: "BAD_REQUEST" },
    });
  });

  it("answers a persisted query whose hash does not match with BAD_REQUEST", async () => {
    const answer = await postRaw(
      server.origin,
      { query: "{ me { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "a".repeat(64) } } },
      { headers: asUser },
    );

    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0].extensions).toEqual({ code: "BAD_REQUEST" });
  });

  it("still serves a persisted query whose hash matches", async () => {
    const query = "{ me { id } }";
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const answer = await postRaw(
      server.origin,
      { query, extensions: { persistedQuery: { version: 1, sha256Hash } } },
      { headers: asUser },
    );

    expect(answer.body).toEqual({ data: { me: { id: "careless" } } });
  });

  it("answers a document over the token limit with GRAPHQL_VALIDATION_FAILED naming the limit", async () => {
    const answer = await postRaw(
      server.origin,
      { query: `{ ${Array.from({ length: 2100 }, () => "__typename").join(" ")} }` },
      { headers: asUser },
    );

    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0].extensions).toEqual({
      code: "GRAPHQL_VALIDATION_FAILED",
      limit: "tokens",
      max: 2000,
    });
  });
});
