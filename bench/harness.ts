/**
 * The benchmark: starts the real stack (Kafka, daprd, the built API) once per database, drives
 * each scenario with autocannon on loopback for a fixed number of requests, interleaving scenarios
 * within a repeat so that ratios compare numbers taken side by side, and measures the outbox
 * relay's drain rate. Around every run it reads the CPU time of each process (API, daprd, Kafka,
 * the seed's uvicorn, the framework floor) from /proc, after waiting for the run's relay work and
 * deliveries to finish, and reports CPU µs per request.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { TopicReader } from "../test/stack/kafka";
import { delay, httpStatus, runToCompletion } from "../test/stack/processes";
import { startStack, type Stack, type StackOptions, type StartupTimings } from "../test/stack/stack";
import { hsToken, TEST_JWT_SECRET } from "../test/support/tokens";
import { CpuMeter } from "./cpu";
import type { FloorLayer } from "./floor-server";
import { startFloorService, type FloorService } from "./floor-service";
import { hasGraphqlErrors, runLoad, type ConnectionRequest, type LoadResult } from "./load";
import { describeMachine, type MachineInfo } from "./machine";
import { ensurePythonEnv } from "./python-env";
import { startSeedService, type SeedService } from "./seed-service";

export const SCENARIOS = ["raw", "trigger", "create", "me", "seed", "floor", "floor-express", "floor-node"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** What `npm run bench` runs without --scenarios; the other floors are for choosing the HTTP layer. */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = ["raw", "trigger", "create", "me", "seed", "floor"];
export type DatabaseKind = "sqlite" | "postgres";

/** The HTTP layer the product runs on (src/http/app.ts); the "floor" scenario uses the same. */
export const PRODUCT_HTTP_LAYER: FloorLayer = "fastify";
const FLOOR_SCENARIOS: Readonly<Partial<Record<ScenarioName, FloorLayer>>> = {
  floor: PRODUCT_HTTP_LAYER,
  "floor-express": "express",
  "floor-node": "node",
};

export const SCENARIO_LABELS: Readonly<Record<ScenarioName, string>> = {
  raw: "(1) raw daprd publish (limit)",
  trigger: "(2) triggerTodoEvent via API",
  create: "(3) createTodo via API",
  me: "(4) me query (GraphQL baseline)",
  seed: "(5) FastAPI seed trigger-event",
  floor: `(6) framework floor: me on Apollo + ${PRODUCT_HTTP_LAYER}`,
  "floor-express": "(6e) framework floor on Express 5",
  "floor-node": "(6n) framework floor on node:http",
};

/** The processes whose CPU time is read around every run. */
export const PROCESSES = ["api", "daprd", "kafka", "seed", "floor"] as const;
export type ProcessName = (typeof PROCESSES)[number];
export type CpuPerRequest = Partial<Record<ProcessName, number>>;

/** Scenarios whose every request publishes one event, which daprd then delivers back to the API. */
const PUBLISHING: ReadonlySet<ScenarioName> = new Set(["raw", "trigger", "create", "seed"]);

export interface BenchOptions {
  readonly databases: readonly DatabaseKind[];
  readonly scenarios: readonly ScenarioName[];
  readonly concurrencies: readonly number[];
  readonly repeats: number;
  /**
   * Requests per run at concurrency 16 and above; fewer below (see requestsAt), so that a run at
   * concurrency 1 does not take ten times as long.
   */
  readonly requests: number;
  /** Requests of one unrecorded run per scenario before measuring; 0 to skip. */
  readonly warmupRequests: number;
  /** Events in the relay drain measurement; 0 to skip it. */
  readonly drainEvents: number;
  /** Node flags for the API (e.g. --cpu-prof). */
  readonly apiNodeArgs?: readonly string[];
  /** Extra environment for the API, over the bench defaults (e.g. PUBLISH_BULK_MAX_ENTRIES=1). */
  readonly apiEnv?: Readonly<Record<string, string>>;
  /** One delivery request per event instead of the subscription's bulkSubscribe (comparisons). */
  readonly singleDeliveries?: boolean;
  readonly log: (message: string) => void;
}

export interface Row {
  readonly scenario: ScenarioName;
  readonly concurrency: number;
  /** Medians over the repeats. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Summed over the repeats. */
  readonly errors: number;
  readonly requests: number;
  /** Peak over the repeats, of the serving process (the API, or uvicorn for the seed). */
  readonly rssMb?: number;
  /** CPU µs per request of each process: medians over the repeats. */
  readonly cpuUsPerRequest: CpuPerRequest;
  /** The API's CPU µs per event delivered back to it (publishing scenarios): median over the repeats. */
  readonly apiCpuUsPerDelivery?: number;
  readonly runs: readonly RunResult[];
}

export interface RunResult extends LoadResult {
  /** CPU µs each process used from the first request until the run's work had settled. */
  readonly cpuUs: CpuPerRequest;
  /** Events daprd delivered to the API during the run. */
  readonly deliveries?: number;
}

export interface DrainResult {
  readonly events: number;
  /** From daprd answering again until the last of the events was read from Kafka. */
  readonly ms: number;
  readonly eventsPerSec: number;
  readonly backlogBuildRps: number;
}

export interface DatabaseRun {
  readonly database: DatabaseKind;
  readonly timings: StartupTimings;
  /** 1-minute load average when the measurements started and ended (other work on the machine shows here). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly rows: readonly Row[];
  readonly drain?: DrainResult;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: Omit<BenchOptions, "log">;
  readonly runs: readonly DatabaseRun[];
}

const REPO_ROOT = resolve(__dirname, "..");
/** The V8 flags the API runs with (package.json `config.apiNodeFlags`); the floors get the same. */
const API_NODE_FLAGS = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { config: { apiNodeFlags: string } }
).config.apiNodeFlags
  .split(" ")
  .filter((flag) => flag !== "");
const USERS = 64;
const TOKEN_TTL = "6h";
const TRIGGER_QUERY =
  "mutation Trigger($taskId: Int!, $input: TodoEventInput!) { triggerTodoEvent(taskId: $taskId, input: $input) { success eventId } }";
const CREATE_QUERY = "mutation Create($input: CreateTodoInput!) { createTodo(input: $input) { id } }";
const ME_QUERY = "query Me { me { id } }";
const DETAILS = { title: "Sample task", priority: "high" };

/** Environment of the API under load: production mode, no per-user rate limit, a fast relay retry. */
const BENCH_API_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  RATE_LIMIT_PER_MINUTE: "0",
  OUTBOX_RETRY_BASE_MS: "10",
  OUTBOX_RETRY_MAX_MS: "100",
};

interface BenchUser {
  readonly id: string;
  readonly token: string;
  /** A todo of the user's own (triggerTodoEvent checks the task belongs to the caller). */
  taskId: number;
}

export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const needsPython = options.scenarios.includes("seed");
  const python = needsPython ? await ensurePythonEnv(options.log) : undefined;
  const runs: DatabaseRun[] = [];
  for (const database of options.databases) {
    runs.push(await runOnDatabase(database, options, python));
  }
  const { log: _log, ...recorded } = options;
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: describeMachine(),
    options: recorded,
    runs,
  };
}

async function runOnDatabase(
  database: DatabaseKind,
  options: BenchOptions,
  python: string | undefined,
): Promise<DatabaseRun> {
  const log = (message: string): void => options.log(`[${database}] ${message}`);
  let pgDir: string | undefined;
  let stack: Stack | undefined;
  let seed: SeedService | undefined;
  const floors = new Map<ScenarioName, FloorService>();
  try {
    const stackOptions: StackOptions = {
      apiEnv: { ...BENCH_API_ENV, ...options.apiEnv },
      ...(options.apiNodeArgs === undefined ? {} : { apiNodeArgs: options.apiNodeArgs }),
      ...(options.singleDeliveries === true ? { singleDeliveries: true } : {}),
    };
    if (database === "postgres") {
      pgDir = mkdtempSync("/tmp/todo-bench-pg-");
      const url = (
        await runToCompletion("bash", [join(REPO_ROOT, "scripts/postgres/pg-temp.sh"), "start", pgDir], {
          label: "pg-temp",
          timeoutMs: 10 * 60_000,
          cwd: REPO_ROOT,
        })
      ).trim();
      log(`PostgreSQL at ${url}`);
      Object.assign(stackOptions, { databaseUrl: url });
    }
    stack = await startStack(stackOptions);
    const started = stack;
    log(`stack ready; API ready ${started.timings.apiReadyMs} ms after spawn`);
    if (python !== undefined) {
      seed = await startSeedService({
        python,
        port: await freePort(),
        daprHttpPort: started.ports.daprHttp,
        daprGrpcPort: started.ports.daprGrpc,
        daprApiToken: started.daprApiToken,
        jwtSecret: TEST_JWT_SECRET,
        logDir: started.workDir,
      });
    }
    for (const scenario of options.scenarios) {
      const layer = FLOOR_SCENARIOS[scenario];
      if (layer === undefined) continue;
      floors.set(
        scenario,
        await startFloorService({
          layer,
          port: await freePort(),
          jwtSecret: TEST_JWT_SECRET,
          nodeArgs: API_NODE_FLAGS,
        }),
      );
    }
    const users = await createUsers(started, "bench-user");
    const loadAtStart = loadavg()[0] ?? 0;
    const targets = scenarioTargets(started, seed, floors, users);

    const measure = async (scenario: ScenarioName, connections: number, requests: number): Promise<RunResult> => {
      const meter = new CpuMeter<ProcessName>(
        FLOOR_SCENARIOS[scenario] !== undefined
          ? { floor: floors.get(scenario)?.pid }
          : {
              api: started.apiPid,
              daprd: started.daprdPid,
              kafka: started.kafkaPid,
              ...(scenario === "seed" ? { seed: seed?.pid } : {}),
            },
      );
      const publishes = PUBLISHING.has(scenario);
      const deliveredBefore = publishes ? await deliveredCount(started) : 0;
      meter.start();
      const result = await runLoad({ ...targets[scenario], connections, durationSec: 0, amount: requests });
      // The run is over when its work is: the relay has published every event it queued, and
      // daprd has delivered every event back to the API. Only then are the counters read.
      if (scenario === "create" || scenario === "trigger") await waitForEmptyOutbox(started, 120_000);
      const deliveries = publishes
        ? (await waitForDeliveries(started, deliveredBefore + result.requests - result.errors, 60_000)) -
          deliveredBefore
        : undefined;
      return { ...result, cpuUs: meter.read(), ...(deliveries === undefined ? {} : { deliveries }) };
    };

    if (options.warmupRequests > 0) {
      for (const scenario of options.scenarios) await measure(scenario, 16, options.warmupRequests);
      log("warmed up");
    }
    const results = new Map<string, RunResult[]>();
    for (const concurrency of options.concurrencies) {
      for (let repeat = 1; repeat <= options.repeats; repeat++) {
        for (const scenario of options.scenarios) {
          const result = await measure(scenario, concurrency, requestsAt(concurrency, options.requests, scenario));
          const key = `${scenario}/${concurrency}`;
          results.set(key, [...(results.get(key) ?? []), result]);
          log(
            `${scenario} c=${concurrency} #${repeat}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms} ms, ` +
              `p99 ${result.p99Ms} ms, errors ${result.errors}, CPU µs/req ${describeCpu(result)}` +
              (result.sampleError === undefined ? "" : ` (e.g. ${result.sampleError})`),
          );
        }
      }
    }
    const rows: Row[] = [];
    for (const scenario of options.scenarios) {
      for (const concurrency of options.concurrencies) {
        rows.push(summarise(scenario, concurrency, results.get(`${scenario}/${concurrency}`) ?? []));
      }
    }
    await seed?.stop();
    seed = undefined;

    let drain: DrainResult | undefined;
    if (options.drainEvents > 0) {
      drain = await measureDrain(started, options.drainEvents, log);
      log(`relay drain: ${drain.events} events in ${drain.ms} ms = ${drain.eventsPerSec.toFixed(0)} events/s`);
    }
    const loadAverage = { start: loadAtStart, end: loadavg()[0] ?? 0 };
    return { database, timings: started.timings, loadAverage, rows, ...(drain === undefined ? {} : { drain }) };
  } finally {
    await seed?.stop();
    for (const floor of floors.values()) await floor.stop();
    await stack?.stop();
    if (pgDir !== undefined) {
      await runToCompletion("bash", [join(REPO_ROOT, "scripts/postgres/pg-temp.sh"), "stop", pgDir], {
        label: "pg-temp",
        timeoutMs: 60_000,
        cwd: REPO_ROOT,
      });
    }
  }
}

type Target = Omit<Parameters<typeof runLoad>[0], "connections" | "durationSec">;

function scenarioTargets(
  stack: Stack,
  seed: SeedService | undefined,
  floors: ReadonlyMap<ScenarioName, FloorService>,
  users: readonly BenchUser[],
): Record<ScenarioName, Target> {
  const userFor = (connection: number): BenchUser => users[connection % users.length];
  const graphql = (connection: number, query: string, variables?: object): ConnectionRequest => ({
    path: "/graphql",
    headers: { "content-type": "application/json", authorization: `Bearer ${userFor(connection).token}` },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  const api = { origin: stack.origin, method: "POST" as const, isErrorBody: hasGraphqlErrors, rssPid: stack.apiPid };
  return {
    raw: {
      origin: `http://127.0.0.1:${stack.ports.daprHttp}`,
      method: "POST",
      requestFor: (connection) => {
        const user = userFor(connection);
        const id = encodeURIComponent(user.id);
        return {
          path: `/v1.0/publish/kafka-pubsub/todo-events?metadata.user_id=${id}&metadata.partitionKey=${id}`,
          headers: { "content-type": "application/json", "dapr-api-token": stack.daprApiToken },
          body: JSON.stringify({
            event_id: randomUUID(),
            action: "task_updated",
            task_id: user.taskId,
            user_id: user.id,
            details: DETAILS,
            occurred_at: new Date().toISOString(),
            schema_version: 1,
          }),
        };
      },
    },
    trigger: {
      ...api,
      requestFor: (connection) =>
        graphql(connection, TRIGGER_QUERY, {
          taskId: userFor(connection).taskId,
          input: { action: "task_updated", details: DETAILS },
        }),
    },
    create: {
      ...api,
      requestFor: (connection) => graphql(connection, CREATE_QUERY, { input: { title: "Bench todo" } }),
    },
    me: { ...api, requestFor: (connection) => graphql(connection, ME_QUERY) },
    ...floorTargets(floors, graphql),
    seed: {
      origin: seed?.origin ?? "http://127.0.0.1:1",
      method: "POST",
      ...(seed === undefined ? {} : { rssPid: seed.pid }),
      requestFor: (connection) => {
        const user = userFor(connection);
        return {
          path: `/todos/${user.taskId}/trigger-event`,
          headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
          body: JSON.stringify({ action: "task_updated", task_id: user.taskId, user_id: user.id, details: DETAILS }),
        };
      },
    },
  };
}

/** The floors answer the same `me` request as the product, each on its own server. */
function floorTargets(
  floors: ReadonlyMap<ScenarioName, FloorService>,
  graphql: (connection: number, query: string) => ConnectionRequest,
): Record<"floor" | "floor-express" | "floor-node", Target> {
  const target = (scenario: ScenarioName): Target => {
    const floor = floors.get(scenario);
    return {
      origin: floor?.origin ?? "http://127.0.0.1:1",
      method: "POST",
      isErrorBody: hasGraphqlErrors,
      ...(floor === undefined ? {} : { rssPid: floor.pid }),
      requestFor: (connection) => graphql(connection, ME_QUERY),
    };
  };
  return { floor: target("floor"), "floor-express": target("floor-express"), "floor-node": target("floor-node") };
}

/**
 * Requests of one run: `requests` at concurrency 16 and above, proportionally fewer below (at least
 * a tenth), and a fifth of that for the seed. Every run is a fixed number of requests, not a fixed time: a timed run ends by closing
 * its connections, daprd then cancels the in-flight publishes of the raw scenario, and the circuit
 * breaker of components/resiliency.yaml counts the cancellations as failures.
 */
export function requestsAt(concurrency: number, requests: number, scenario: ScenarioName): number {
  const share = scenario === "seed" ? SEED_SHARE : 1;
  return Math.round(share * Math.min(requests, Math.max(requests / 10, (requests * concurrency) / 16)));
}

/** The seed serves a tenth of the API's rate; a fifth of the requests keeps its runs as long as the others. */
const SEED_SHARE = 0.2;

/** Events daprd has delivered to the API so far, from its own counter. */
async function deliveredCount(stack: Stack): Promise<number> {
  const response = await fetch(`${stack.origin}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  let total = 0;
  for (const match of text.matchAll(/^todo_events_delivered_total\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

/**
 * Waits until the API has been delivered `expected` events in all (a raw publish that daprd
 * answered 2xx for is delivered back too), then returns the count. Gives up after `timeoutMs`
 * and returns what arrived: the report shows deliveries next to requests.
 */
async function waitForDeliveries(stack: Stack, expected: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivered = await deliveredCount(stack);
    if (delivered >= expected || Date.now() > deadline) return delivered;
    await delay(100);
  }
}

function describeCpu(result: RunResult): string {
  const parts = (Object.entries(result.cpuUs) as [ProcessName, number][]).map(
    ([name, micros]) => `${name} ${(micros / Math.max(result.requests, 1)).toFixed(0)}`,
  );
  if (result.deliveries !== undefined && result.cpuUs.api !== undefined && result.deliveries > 0) {
    parts.push(`(${result.deliveries} deliveries)`);
  }
  return parts.join(", ");
}

/** Users with a todo each, created through the API. */
async function createUsers(stack: Stack, prefix: string): Promise<BenchUser[]> {
  const users: BenchUser[] = Array.from({ length: USERS }, (_, index) => {
    const id = `${prefix}-${index + 1}`;
    return { id, token: hsToken({ sub: id }, { expiresIn: TOKEN_TTL }), taskId: 0 };
  });
  await Promise.all(
    users.map(async (user) => {
      const response = await fetch(`${stack.origin}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: CREATE_QUERY, variables: { input: { title: `Todo of ${user.id}` } } }),
      });
      const body = (await response.json()) as { data?: { createTodo?: { id: number } }; errors?: unknown };
      const id = body.data?.createTodo?.id;
      if (id === undefined) throw new Error(`createTodo for ${user.id} failed: ${JSON.stringify(body)}`);
      user.taskId = id;
    }),
  );
  await waitForEmptyOutbox(stack, 60_000);
  return users;
}

async function outboxPending(stack: Stack): Promise<number | undefined> {
  try {
    const response = await fetch(`${stack.origin}/readyz`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { checks?: { outbox?: { pending?: number } } };
    return body.checks?.outbox?.pending;
  } catch {
    return undefined;
  }
}

async function waitForEmptyOutbox(stack: Stack, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = await outboxPending(stack);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`the outbox still has ${pending} pending events after ${timeoutMs} ms`);
    await delay(50);
  }
}

/**
 * The relay's drain rate: with daprd stopped, `events` todos are created (their events wait in
 * the outbox); then daprd starts again, and the clock runs from daprd answering until the last
 * of those events has been read back from Kafka.
 */
async function measureDrain(stack: Stack, events: number, log: (message: string) => void): Promise<DrainResult> {
  await waitForEmptyOutbox(stack, 120_000);
  const users = Array.from({ length: USERS }, (_, index) => {
    const id = `drain-user-${index + 1}`;
    return { id, token: hsToken({ sub: id }, { expiresIn: TOKEN_TTL }) };
  });
  const reader = await TopicReader.start(stack.brokers, "todo-events", { fromBeginning: false });
  try {
    await stack.stopDaprd();
    const backlog = await runLoad({
      origin: stack.origin,
      method: "POST",
      connections: 16,
      durationSec: 0,
      amount: events,
      isErrorBody: hasGraphqlErrors,
      requestFor: (connection) => ({
        path: "/graphql",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${users[connection % users.length].token}`,
        },
        body: JSON.stringify({ query: CREATE_QUERY, variables: { input: { title: "Drain todo" } } }),
      }),
    });
    if (backlog.errors > 0) throw new Error(`building the backlog failed ${backlog.errors} times`);
    log(`backlog of ${await outboxPending(stack)} events with daprd stopped; restarting daprd`);

    const daprAnswers = (async (): Promise<number> => {
      const url = `http://127.0.0.1:${stack.ports.daprHttp}/v1.0/healthz/outbound`;
      for (;;) {
        if ((await httpStatus(url, { "dapr-api-token": stack.daprApiToken }, 500)) === 204) return performance.now();
        await delay(5);
      }
    })();
    const restarted = stack.startDaprd();
    const from = await daprAnswers;
    const isDrainRecord = (headers: Readonly<Record<string, string>>): boolean =>
      (headers.user_id ?? "").startsWith("drain-user-");
    const deadline = Date.now() + 5 * 60_000;
    let seen = 0;
    while (seen < events) {
      if (Date.now() > deadline) throw new Error(`only ${seen} of ${events} drained events reached Kafka in 5 min`);
      await delay(10);
      seen = reader.records().filter((record) => isDrainRecord(record.headers)).length;
    }
    const ms = Math.round(performance.now() - from);
    await restarted;
    return { events, ms, eventsPerSec: (events * 1000) / ms, backlogBuildRps: backlog.rps };
  } finally {
    await reader.close();
  }
}

function summarise(scenario: ScenarioName, concurrency: number, runs: readonly RunResult[]): Row {
  const rss = runs.map((run) => run.rssMb).filter((mb): mb is number => mb !== undefined);
  const cpuUsPerRequest: CpuPerRequest = {};
  for (const name of PROCESSES) {
    const perRun = runs
      .filter((run) => run.cpuUs[name] !== undefined && run.requests > 0)
      .map((run) => (run.cpuUs[name] ?? 0) / run.requests);
    if (perRun.length > 0) cpuUsPerRequest[name] = median(perRun);
  }
  const perDelivery = runs
    .filter((run) => run.cpuUs.api !== undefined && run.deliveries !== undefined && run.deliveries > 0)
    .map((run) => (run.cpuUs.api ?? 0) / (run.deliveries ?? 1));
  return {
    scenario,
    concurrency,
    rps: median(runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    ...(rss.length === 0 ? {} : { rssMb: Math.max(...rss) }),
    cpuUsPerRequest,
    ...(perDelivery.length === 0 ? {} : { apiCpuUsPerDelivery: median(perDelivery) }),
    runs,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
