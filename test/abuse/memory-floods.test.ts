/**
 * Floods of requests that each leave something behind in memory: what is kept stays within its
 * bound, the heap does not grow with the flood, and the server still answers afterwards.
 */
import { randomUUID } from "node:crypto";
import { RateLimiter } from "../../src/graphql/limits/rate-limiter";
import { MeDocument, TriggerTodoEventDocument } from "../generated/graphql";
import { heapUsedAfterGc, MiB } from "../support/heap";
import { asUser, createTodoAs, postGraphQL, startTestServer, type TestServer } from "../support/test-server";

/** A fresh, flat string of `length` characters, as a parsed request would hold (no shared pieces). */
function distinctText(prefix: string, index: number, length: number): string {
  return JSON.parse(JSON.stringify(`${prefix}${index}`.padEnd(length, "x"))) as string;
}

describe("a flood of idempotency keys with large details", () => {
  const REQUESTS = 800;
  let server: TestServer;
  let taskId: number;
  beforeAll(async () => {
    server = await startTestServer({
      env: { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "0" },
    });
    taskId = await createTodoAs(server.origin, "flooder");
  });
  afterAll(() => server.stop());

  async function flood(count: number): Promise<void> {
    const headers = asUser("flooder");
    const trigger = (key: string) =>
      postGraphQL(
        server.origin,
        TriggerTodoEventDocument,
        { taskId, input: { action: "task_flooded", idempotencyKey: key, details: { text: "x".repeat(15 * 1024) } } },
        headers,
      );
    const concurrency = 25;
    for (let start = 0; start < count; start += concurrency) {
      const answers = await Promise.all(
        Array.from({ length: Math.min(concurrency, count - start) }, () => trigger(randomUUID())),
      );
      for (const answer of answers) if (answer.body.errors !== undefined) throw new Error(JSON.stringify(answer.body));
    }
    // The test's own publisher keeps every event; the server's heap is what is measured.
    server.publisher.published.splice(0);
  }

  it("keeps the keys in the database, not in the heap", async () => {
    await flood(100);
    const before = heapUsedAfterGc();

    await flood(REQUESTS);
    const grown = heapUsedAfterGc() - before;

    // Keeping each request's 15 KiB of details in memory, as the store once did, would add about 12 MiB.
    expect(grown).toBeLessThan(4 * MiB);
  }, 20_000);

  it("still answers /healthz and a me query after the flood", async () => {
    await flood(200);

    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    expect((await postGraphQL(server.origin, MeDocument, {}, asUser("flooder"))).body).toEqual({
      data: { me: { id: "flooder" } },
    });
  }, 20_000);
});

describe("a flood of distinct users on the rate limiter", () => {
  it("keeps at most maxTrackedUsers buckets, and the heap with them", () => {
    const maxTrackedUsers = 1000;
    const limiter = new RateLimiter({ requestsPerMinute: 600, burst: 100, maxTrackedUsers });
    const before = heapUsedAfterGc();

    for (let index = 0; index < 200_000; index++) limiter.take(distinctText("user-", index, 256));
    const grown = heapUsedAfterGc() - before;

    expect(limiter.trackedUsers).toBeLessThanOrEqual(maxTrackedUsers);
    // 1000 buckets of a 256-character id are under 1 MiB; 200 000 of them would be about 80 MiB.
    expect(grown).toBeLessThan(4 * MiB);
  });

  it("still limits a user who keeps coming back during the flood", () => {
    const limiter = new RateLimiter({ requestsPerMinute: 60, burst: 5, maxTrackedUsers: 100, now: () => 0 });

    for (let index = 0; index < 10_000; index++) {
      limiter.take("regular");
      limiter.take(distinctText("user-", index, 256));
    }

    expect(limiter.take("regular")).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });
});
