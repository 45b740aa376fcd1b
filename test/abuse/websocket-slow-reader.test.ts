/**
 * A client that floods operations over a WebSocket without reading the answers is cut off with
 * 1008 once its unread answers pass the server's bound, so they cannot pile up in the server's
 * memory. The client is a Python program because it can shrink its socket's receive buffer, which
 * Node cannot: the backlog then lands in the server at once instead of in the loopback's buffers.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { MeDocument } from "../generated/graphql";
import { heapUsedAfterGc, MiB } from "../support/heap";
import { asUser, postGraphQL, startTestServer, type TestServer } from "../support/test-server";
import { tokenFor } from "../support/tokens";

const SLOW_READER = join(__dirname, "support", "slow_reader.py");

/** What the slow reader prints last (snake_case: it is Python's JSON). */
interface SlowReaderReport {
  /** Subscribe messages sent whole. */
  readonly sent: number;
  /** Answers, and their bytes, read before the close frame (or before the connection went quiet). */
  readonly answers: number;
  readonly answer_bytes: number;
  readonly close_code: number | null;
  readonly close_reason: string | null;
  /** From the first subscribe message sent to the close frame read. */
  readonly close_after_s: number | null;
}

interface SlowReaderRun {
  readonly report: SlowReaderReport;
  /** The server's memory growth, measured while the flood's answers were still unread. */
  readonly grownWhileUnread: number;
}

/** Heap and Buffers after a full collection: a queued answer is a Buffer, outside the JS heap. */
function memoryAfterGc(): number {
  const heap = heapUsedAfterGc();
  return heap + process.memoryUsage().arrayBuffers;
}

/**
 * The most the server's kernel holds for a socket before the server itself buffers: Linux's
 * ceiling on an autotuned send buffer (4 MiB unless the machine is tuned otherwise).
 */
function kernelSendBufferCeiling(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/)[2]);
  } catch {
    return 4 * MiB;
  }
}

/**
 * Runs the slow reader as `userId`; the server's memory is measured after the flood has been sent
 * and before the reader reads its socket again, which it does when told on stdin.
 */
async function runSlowReader(
  server: TestServer,
  userId: string,
  started: (child: ChildProcessWithoutNullStreams) => void,
): Promise<SlowReaderRun> {
  const before = memoryAfterGc();
  const child = spawn("python3", [SLOW_READER, new URL(server.origin).port, tokenFor(userId)]);
  started(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });

  let grownWhileUnread = Number.NaN;
  let report: SlowReaderReport | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    const message = JSON.parse(line) as { flooded?: number } | SlowReaderReport;
    if ("flooded" in message) {
      grownWhileUnread = memoryAfterGc() - before;
      child.stdin.end("read\n");
    } else {
      report = message as SlowReaderReport;
    }
  }
  const exitCode = await exited;
  if (exitCode !== 0 || report === undefined) throw new Error(`slow reader failed (exit ${exitCode}): ${stderr}`);
  return { report, grownWhileUnread };
}

async function expectStillServing(server: TestServer): Promise<void> {
  expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  expect((await postGraphQL(server.origin, MeDocument, {}, asUser("bystander"))).body.data?.me.id).toBe("bystander");
}

describe("a WebSocket client that floods operations and does not read the answers", () => {
  let server: TestServer;
  let child: ChildProcessWithoutNullStreams | undefined;
  let run: SlowReaderRun;
  beforeAll(async () => {
    // The rate limit is off so that only the bound on unread answers can stop the flood.
    server = await startTestServer({ env: { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "0" } });
    run = await runSlowReader(server, "slow-reader", (started) => (child = started));
    const { report, grownWhileUnread } = run;
    // The figures worth watching when the bound or the kernel's buffers change.
    console.log(
      `[slow reader] close ${report.close_code} after ${report.close_after_s} s; ${report.sent} operations sent, ` +
        `${report.answers} answers (${(report.answer_bytes / MiB).toFixed(1)} MiB) before the close; ` +
        `server memory +${(grownWhileUnread / MiB).toFixed(1)} MiB while unread`,
    );
  }, 30_000);
  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await server.stop();
  });

  it("is closed with 1008 and says why", () => {
    expect({ code: run.report.close_code, reason: run.report.close_reason }).toEqual({
      code: 1008,
      reason: "Client is not reading its messages",
    });
  });

  it("is closed within seconds, once its unread answers fill the kernel's buffers and 1 MiB more", () => {
    // The flood asks for about 32 MiB of answers (2,000 of 16 KiB); a socket's buffers and the
    // server's bound hold a few, and one read's worth of operations may be refused past the bound.
    expect(run.report.answer_bytes).toBeLessThan(kernelSendBufferCeiling() + 2 * MiB);
    expect(run.report.answers).toBeLessThan(run.report.sent);
    // An upper bound on when the server closed: it counts the reader's pause before reading.
    expect(run.report.close_after_s).toBeLessThan(10);
  });

  it("keeps the server's memory within a bound while the answers stay unread", () => {
    // 1 MiB of queued answers costs several MiB of heap (each keeps its operation's message and
    // strings until written); all 2,000 answers would hold 32 MiB as Buffers alone.
    expect(run.grownWhileUnread).toBeLessThan(16 * MiB);
  });

  it("keeps answering other users", async () => {
    await expectStillServing(server);
  });
});
