/**
 * The TypeScript example client (examples/typescript-client) as a process against the real API,
 * daprd and Kafka, through a TCP proxy the test can break: its socket is cut mid-stream, then
 * stalled, then the client itself is killed and started again; across all of it the client prints
 * each of the user's events exactly once, in sequence order, with no gap.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CreateTodoDocument, TriggerTodoEventDocument } from "../generated/graphql";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy";
import { asUser, postGraphQL } from "../support/test-server";
import { tokenFor } from "../support/tokens";
import { ManagedProcess, waitUntil } from "../stack/processes";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";

const CLIENT_MAIN = resolve(__dirname, "../../examples/typescript-client/src/main.ts");
const TS_NODE = require.resolve("ts-node/dist/bin.js");
const DELIVERY_TIMEOUT_MS = 30_000;
const user = `ts-client-${randomUUID().slice(0, 8)}`;

let stack: Stack;
let proxy: TcpProxy;
let client: ManagedProcess | undefined;
let logFile: string;
let stateFile: string;

beforeAll(async () => {
  stack = await startStack();
  proxy = await startTcpProxy(stack.ports.api);
  logFile = join(stack.workDir, "typescript-client.log");
  stateFile = join(stack.workDir, "typescript-client", "last-sequence.json");
}, STACK_START_TIMEOUT_MS);

afterAll(async () => {
  await client?.stop(10_000);
  await proxy?.close();
  await stack?.stop();
}, STACK_STOP_TIMEOUT_MS);

/** Starts the client as its README does, through the proxy; resolves when its subscription's socket is up. */
async function startClient(args: readonly string[] = []): Promise<void> {
  const connectedBefore = connectedCount();
  client = ManagedProcess.start({
    name: "typescript-client",
    command: process.execPath,
    args: [TS_NODE, "--transpile-only", CLIENT_MAIN, ...args],
    cwd: resolve(__dirname, "../.."),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TODO_API_URL: proxy.origin,
      TOKEN: tokenFor(user),
      STATE_FILE: stateFile,
      // A stalled socket is noticed within two intervals.
      KEEPALIVE_MS: "500",
    },
    logFile,
  });
  const started = client;
  await waitUntil(async () => connectedCount() > connectedBefore, {
    what: "the client to connect",
    timeoutMs: DELIVERY_TIMEOUT_MS,
    process: started,
  });
}

const output = (): string => {
  try {
    return readFileSync(logFile, "utf8");
  } catch {
    return "";
  }
};
const connectedCount = (): number => output().match(/^· connected$/gm)?.length ?? 0;
const lostCount = (): number => output().match(/^· connection lost .*; resuming after sequence \d+/gm)?.length ?? 0;
/** The sequences of the events the client printed, across its runs, in the order printed. */
const printed = (): number[] => [...output().matchAll(/^#(\d+) /gm)].map((match) => Number(match[1]));
const savedSequence = (): number =>
  (JSON.parse(readFileSync(stateFile, "utf8")) as { lastSequence: number }).lastSequence;

const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

async function as<TData, TVariables>(
  document: Parameters<typeof postGraphQL<TData, TVariables>>[1],
  variables: TVariables,
): Promise<TData> {
  // Straight to the API, never through the proxy: events keep coming while the client's socket is broken.
  const response = await postGraphQL(stack.origin, document, variables, asUser(user));
  if (response.body.errors !== undefined || response.body.data == null) {
    throw new Error(`request failed: HTTP ${response.status} ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data;
}

let taskId = 0;
const triggerOne = async (index: number): Promise<void> => {
  await as(TriggerTodoEventDocument, { taskId, input: { action: "task_reviewed", details: { index } } });
};

const waitForPrinted = (count: number): Promise<void> =>
  waitUntil(async () => printed().length >= count, {
    what: `the client to print ${count} events (printed: ${printed().join(",")})`,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    process: client,
  });

function withOutput(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      stack.keepWorkDir();
      process.stderr.write(`[e2e] client output:\n${output().slice(-4000)}\n`);
      throw error;
    }
  };
}

describe("the TypeScript example client", () => {
  it(
    "prints each event as it arrives and, after its socket is cut mid-stream, resumes with no gap",
    withOutput(async () => {
      await startClient();
      taskId = (await as(CreateTodoDocument, { input: { title: "followed by the example client" } })).createTodo.id;
      // Twelve triggers, a little apart; the socket is cut once the client has printed three events.
      const producing = (async () => {
        for (let index = 1; index <= 12; index++) {
          await triggerOne(index);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      await waitForPrinted(3);
      proxy.cut();
      await producing;

      await waitForPrinted(13);
      expect(printed()).toEqual(oneTo(13));
      expect(lostCount()).toBe(1);
      expect(connectedCount()).toBe(2);
      expect(savedSequence()).toBe(13);
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );

  it(
    "notices a stalled socket by its keep-alive and resumes with no gap",
    withOutput(async () => {
      proxy.stall();
      for (let index = 13; index <= 15; index++) await triggerOne(index);

      await waitForPrinted(16);
      expect(printed()).toEqual(oneTo(16));
      expect(lostCount()).toBe(2);
      expect(savedSequence()).toBe(16);
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );

  it(
    "resumes from its saved sequence after being killed, then prints the events it triggers itself",
    withOutput(async () => {
      await client!.kill();
      for (let index = 16; index <= 17; index++) await triggerOne(index);

      // Missed while it was down: 17 and 18; its own: a new todo (19) and two triggers (20, 21).
      await startClient(["--trigger", "2"]);
      await waitForPrinted(21);
      expect(printed()).toEqual(oneTo(21));
      expect(output()).toContain("· resuming after sequence 16 (saved in");
      expect(output()).toMatch(/^#19 task_created /m);
      expect(output()).toMatch(/^#21 example\.ping task \d+ \w+ \{"index":2\}$/m);
      expect(savedSequence()).toBe(21);
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );
});
