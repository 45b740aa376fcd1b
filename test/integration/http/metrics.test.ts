import { CreateTodoDocument, MeDocument, TriggerTodoEventDocument } from "../../generated/graphql";
import { openTestDatabase } from "../../support/databases";
import { asUser, createTodoAs, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";

const gaugeValue = (text: string, name: string): number => {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (match === null) throw new Error(`${name} not in the scrape`);
  return Number(match[1]);
};

describe("GET /metrics", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const scrape = async (): Promise<string> => {
    const response = await fetch(`${server.origin}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    return response.text();
  };

  it("counts operations by name and outcome, publishes by path, and reads the outbox backlog", async () => {
    const taskId = await createTodoAs(server.origin, "metrics-user");
    await postGraphQL(server.origin, MeDocument, {}, asUser("metrics-user"));
    await postGraphQL(server.origin, MeDocument, {});
    await postGraphQL(
      server.origin,
      TriggerTodoEventDocument,
      { taskId, input: { action: "my_custom_action" } },
      asUser("metrics-user"),
    );
    await server.app.relay.stop();
    await postGraphQL(
      server.origin,
      CreateTodoDocument,
      { input: { title: "waits in the outbox" } },
      asUser("metrics-user"),
    );

    const text = await scrape();

    expect(text).toContain('todo_graphql_operations_total{operation="Me",type="query",outcome="ok"} 1');
    expect(text).toContain('todo_graphql_operations_total{operation="Me",type="query",outcome="UNAUTHENTICATED"} 1');
    expect(text).toContain('todo_events_published_total{action="custom",via="trigger"} 1');
    expect(text).toMatch(/todo_events_published_total\{action="task_created",via="outbox"\} 1/);
    expect(text).toContain("todo_outbox_pending_events 1");
    // Read in the same scrape as the count, not left over from the previous one.
    expect(gaugeValue(text, "todo_outbox_oldest_pending_age_seconds")).toBeGreaterThan(0);
    expect(text).toMatch(
      /todo_http_request_duration_seconds_count\{method="POST",route="\/graphql",status="200"\} \d+/,
    );
    expect(text).toContain("todo_active_subscriptions 0");
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("never labels by user", async () => {
    expect(await scrape()).not.toContain("metrics-user");
  });

  it("reports the backlog as unknown (NaN), not empty, when the database cannot be read", async () => {
    const database = await openTestDatabase("sqlite");
    const broken = await startTestServer({ database });
    try {
      await database.dispose();

      const text = await (await fetch(`${broken.origin}/metrics`)).text();

      expect(gaugeValue(text, "todo_outbox_pending_events")).toBeNaN();
      expect(gaugeValue(text, "todo_outbox_oldest_pending_age_seconds")).toBeNaN();
    } finally {
      await broken.stop().catch(() => undefined);
    }
  });
});
