/**
 * A request that reaches the API after its shutdown began is refused, not executed: otherwise it
 * could commit while its answer can no longer be written, and the client would not know. The
 * test pipelines a second request behind one the server is still working on, on the same socket,
 * which is the drain's race made deterministic.
 */
import { connect, type Socket } from "node:net";
import { openTestDatabase, type TestDatabase } from "../../support/databases";
import { createTodoAs, startTestServer, type TestServer } from "../../support/test-server";
import { tokenFor } from "../../support/tokens";

function graphqlRequest(userId: string, query: string, variables: object): string {
  const body = JSON.stringify({ query, variables });
  return [
    "POST /graphql HTTP/1.1",
    "host: 127.0.0.1",
    "content-type: application/json",
    `authorization: Bearer ${tokenFor(userId)}`,
    `content-length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/** Everything the server writes until it closes the socket. */
function readUntilClosed(socket: Socket): Promise<string> {
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (received += chunk));
  return new Promise((resolve) => socket.on("close", () => resolve(received)));
}

describe("shutdown", () => {
  let database: TestDatabase;
  let server: TestServer;
  beforeEach(async () => {
    database = await openTestDatabase("sqlite");
    server = await startTestServer({ database });
  });
  afterEach(async () => {
    await database.dispose();
  });

  it("answers requests in flight but refuses, with 503 SHUTTING_DOWN, one that arrives after it began", async () => {
    const taskId = await createTodoAs(server.origin, "late-user");
    const release = server.publisher.hold();
    const socket = connect(server.app.port, "127.0.0.1");
    const answers = readUntilClosed(socket);
    socket.write(
      graphqlRequest(
        "late-user",
        'mutation($taskId: Int!) { triggerTodoEvent(taskId: $taskId, input: { action: "task_reviewed" }) { success } }',
        { taskId },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100)); // the trigger now waits in the publisher

    const closing = server.stop();
    socket.write(graphqlRequest("late-user", 'mutation { createTodo(input: { title: "too late" }) { id } }', {}));
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    const received = await answers;
    await closing;

    const statuses = [...received.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => match[1]);
    expect(statuses).toEqual(["200", "503"]);
    expect(received).toContain('"success":true');
    expect(received).toContain('"code":"SHUTTING_DOWN"');
    expect(received).toMatch(/^retry-after: 1$/im);
    const titles = await database.db.selectFrom("todos").select("title").where("user_id", "=", "late-user").execute();
    expect(titles.map((row) => row.title)).toEqual(["a todo"]);
  });
});
