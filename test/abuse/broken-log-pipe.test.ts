/**
 * The built API with its stdout on a pipe whose reader goes away (a log shipper or `| tee`
 * that died) or stops reading: it keeps answering, counts the log lines it drops, and still
 * exits 0 on SIGTERM within its shutdown deadline. Needs `npm run build` (test:abuse runs it).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { PRODUCTION_ENV, spawnApi, type ApiProcess } from "../support/api-process";

const BUILT_ENTRY = resolve(__dirname, "../../dist/src/main.js");
const SHUTDOWN_TIMEOUT_MS = 3000;

const PRODUCTION = {
  ...PRODUCTION_ENV,
  ALLOW_UNAUTHENTICATED_DELIVERIES: "true",
  SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  // Nothing to publish here; the relay would only log that the sidecar is missing.
  DAPR_HTTP_PORT: "1",
};

/** Every one of these is answered 401 and logged ("request refused: invalid credentials") at info. */
async function refusedRequest(origin: string): Promise<number> {
  const response = await fetch(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer not-a-token" },
    body: JSON.stringify({ query: "{ me { id } }" }),
    signal: AbortSignal.timeout(2000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** One line per case on stderr, for docs/reliability.md. */
function report(figures: Record<string, unknown>): void {
  process.stderr.write(`[log-pipe] ${JSON.stringify(figures)}\n`);
}

async function droppedLines(origin: string, reason: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  const match = new RegExp(`^todo_log_lines_dropped_total\\{reason="${reason}"\\} (\\S+)$`, "m").exec(text);
  if (match === null) throw new Error(`todo_log_lines_dropped_total{reason="${reason}"} is not in the scrape`);
  return Number(match[1]);
}

/** The exit code and how long it took, or code "still running" when it outlived the deadline by far. */
async function stopWithSigterm(api: ApiProcess): Promise<{ code: number | null | "still running"; elapsedMs: number }> {
  const startedAt = performance.now();
  api.child.kill("SIGTERM");
  const outcome = await Promise.race([
    api.exited.then(({ code }) => code),
    new Promise<"still running">((resolveWait) =>
      setTimeout(() => resolveWait("still running"), SHUTDOWN_TIMEOUT_MS + 5000),
    ),
  ]);
  return { code: outcome, elapsedMs: performance.now() - startedAt };
}

describe("the built API with its stdout on a pipe", () => {
  let api: ApiProcess | undefined;

  beforeAll(() => {
    if (!existsSync(BUILT_ENTRY)) throw new Error(`${BUILT_ENTRY} is missing: run npm run build first`);
  });

  afterEach(async () => {
    if (api !== undefined && api.child.exitCode === null && api.child.signalCode === null) {
      api.child.kill("SIGKILL");
      await api.exited;
    }
    api = undefined;
  });

  async function startApi(): Promise<string> {
    api = spawnApi(PRODUCTION, { built: true });
    const ready = await api.logLine((line) => line.msg === "ready");
    return new URL(String(ready.url)).origin;
  }

  it("keeps answering once the reader is gone, counting the log lines it drops", async () => {
    const origin = await startApi();
    api!.child.stdout!.destroy();

    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push(await refusedRequest(origin));
    const afterFirst = await droppedLines(origin, "broken_pipe");
    for (let i = 0; i < 20; i++) statuses.push(await refusedRequest(origin));
    const afterSecond = await droppedLines(origin, "broken_pipe");
    const health = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
    report({ case: "reader gone", answered: statuses.length, droppedAfter20: afterFirst, droppedAfter40: afterSecond });

    expect(statuses).toEqual(Array(40).fill(401));
    expect(health.status).toBe(200);
    expect(afterFirst).toBeGreaterThanOrEqual(20);
    expect(afterSecond - afterFirst).toBeGreaterThanOrEqual(20);
  }, 30_000);

  it("exits 0 on SIGTERM within the shutdown deadline once the reader is gone", async () => {
    await startApi();
    api!.child.stdout!.destroy();
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));

    // Its shutdown lines are the first to meet the broken pipe, still in flight at exit.
    const { code, elapsedMs } = await stopWithSigterm(api!);
    report({ case: "SIGTERM, reader gone", code, exitMs: Math.round(elapsedMs) });

    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
  }, 30_000);

  it("keeps answering while the reader stops reading, and exits 0 within the deadline", async () => {
    const origin = await startApi();
    // The pipe fills (64 KiB on Linux) and stays full: writes wait off the main thread.
    api!.child.stdout!.pause();

    const statuses = [];
    const startedAt = performance.now();
    for (let round = 0; round < 40; round++) {
      statuses.push(...(await Promise.all(Array.from({ length: 25 }, () => refusedRequest(origin)))));
    }
    const elapsedMs = performance.now() - startedAt;
    const stopped = await stopWithSigterm(api!);
    report({
      case: "reader stuck",
      answered: statuses.length,
      answeringMs: Math.round(elapsedMs),
      code: stopped.code,
      exitMs: Math.round(stopped.elapsedMs),
    });

    expect(statuses).toEqual(Array(1000).fill(401));
    // About 250 KiB of log lines, well over what the pipe and the reader hold, answered at the usual pace.
    expect(elapsedMs).toBeLessThan(10_000);
    expect(stopped.code).toBe(0);
    expect(stopped.elapsedMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 500);
  }, 30_000);
});
