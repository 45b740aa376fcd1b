/** Many clients at once over the real HTTP stack, on both engines: nothing lost, nothing reordered. */
import { CreateTodoDocument } from "../../generated/graphql";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../support/databases";
import { publishedOrderByUser } from "../../support/in-memory-event-publisher";
import { asUser, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";

const USERS = ["u1", "u2", "u3", "u4", "u5"];
const REQUESTS = 200;

describe.each(DIALECTS)("200 concurrent createTodo over HTTP on %s", (dialect) => {
  let database: TestDatabase;
  let server: TestServer;
  beforeAll(async () => {
    database = await openTestDatabase(dialect, { poolSize: 20 });
    server = await startTestServer({ database });
  });
  afterAll(async () => {
    await server.stop();
    await database.dispose();
  });

  it("stores every todo with exactly one outbox row and publishes each event once, in per-user order", async () => {
    const responses = await Promise.all(
      Array.from({ length: REQUESTS }, (_, index) =>
        postGraphQL(
          server.origin,
          CreateTodoDocument,
          { input: { title: `todo ${index}` } },
          asUser(USERS[index % USERS.length]),
        ),
      ),
    );

    expect(responses.filter((response) => response.body.data?.createTodo.id !== undefined)).toHaveLength(REQUESTS);
    const todos = await database.db.selectFrom("todos").select(["id", "user_id"]).execute();
    const outbox = await database.db
      .selectFrom("outbox")
      .select(["task_id", "user_id", "event_id"])
      .orderBy("id")
      .execute();
    expect(todos).toHaveLength(REQUESTS);
    expect(outbox).toHaveLength(REQUESTS);
    expect(new Set(outbox.map((row) => row.task_id))).toEqual(new Set(todos.map((row) => row.id)));
    for (const user of USERS) expect(todos.filter((row) => row.user_id === user)).toHaveLength(REQUESTS / USERS.length);

    const deadline = Date.now() + 15_000;
    while (server.publisher.published.length < REQUESTS && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const byUserInOutbox = new Map<string, string[]>();
    for (const row of outbox)
      byUserInOutbox.set(row.user_id, [...(byUserInOutbox.get(row.user_id) ?? []), row.event_id]);
    expect(server.publisher.published).toHaveLength(REQUESTS);
    expect(publishedOrderByUser(server.publisher.published)).toEqual(byUserInOutbox);
  });
});
