/** Input built to break the server gets a client error naming the field, and nothing is logged as an error. */
import { print } from "graphql";
import { ListTodosDocument, TriggerTodoEventDocument } from "../../generated/graphql";
import { nestedObjectsJson } from "../../support/nested-json";
import { errorLines, recordingLogger, type LogLine } from "../../support/recording-logger";
import { asUser, createTodoAs, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";

describe("hostile input over HTTP", () => {
  let server: TestServer;
  let lines: LogLine[];
  beforeAll(async () => {
    const recording = recordingLogger();
    lines = recording.lines;
    server = await startTestServer({ env: { NODE_ENV: "production" }, logger: recording.logger });
  });
  afterAll(() => server.stop());
  beforeEach(() => lines.splice(0));

  const errorsLogged = () => errorLines(lines);

  it("answers details nested 5000 levels deep with BAD_USER_INPUT naming input.details", async () => {
    const taskId = await createTodoAs(server.origin, "alice");

    const variables = `{"taskId":${taskId},"input":{"action":"task_created","details":${nestedObjectsJson(5000)}}}`;
    const response = await fetch(`${server.origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...asUser("alice") },
      body: `{"query":${JSON.stringify(print(TriggerTodoEventDocument))},"variables":${variables}}`,
    });
    const body = (await response.json()) as { errors?: unknown[] };

    expect(body.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "input.details" } }),
    ]);
    expect(errorsLogged()).toEqual([]);
  });

  it("answers a 30 000-character search with BAD_USER_INPUT naming filter.search", async () => {
    const response = await postGraphQL(
      server.origin,
      ListTodosDocument,
      { filter: { search: "x".repeat(30_000) } },
      asUser("alice"),
    );

    expect(response.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: "BAD_USER_INPUT", field: "filter.search" } }),
    ]);
    expect(errorsLogged()).toEqual([]);
  });
});
