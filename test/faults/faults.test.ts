/**
 * Faults on the real stack under a steady stream of mutations, because delivery that is
 * at least once and in order per user is only proven when a part fails mid-stream:
 * daprd killed, the broker stopped, the API killed mid-relay, PostgreSQL
 * restarted. After each: every acknowledged mutation has its event in Kafka,
 * none is lost, each user's events keep their order and their sequences rise
 * with no gap but a FAILED trigger's, duplicates are counted, and no todo
 * exists without its event.
 */
import { TriggerTodoEventDocument } from "../generated/graphql";
import { asUser, createTodoAs, postGraphQL } from "../support/test-server";
import { startTempPostgres, stopAll, type TempPostgres } from "../stack/postgres";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";
import { audit, kafkaRecordsFor, type Audit } from "./support/audit";
import { MutationLoad } from "./support/mutation-load";

const RECOVERY_TIMEOUT_MS = 90_000;
/** A fault run: load, the fault, recovery, drain and the Kafka read-back. */
const FAULT_TEST_TIMEOUT_MS = 5 * 60_000;

interface FaultReport extends Audit {
  readonly fault: string;
  readonly unacknowledged: number;
  readonly failures: Readonly<Record<string, number>>;
  /** From the component being back until the outbox had published everything. */
  readonly drainedAfterRestartMs: number;
  readonly restartMs: number;
}

const reports: FaultReport[] = [];
/** The load is a few users going flat out: per-user rate limiting would refuse most of it. */
const UNLIMITED = { RATE_LIMIT_PER_MINUTE: "0" };

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = RECOVERY_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const pendingEvents = async (stack: Stack): Promise<number | undefined> => {
  const response = await fetch(`${stack.origin}/readyz`);
  const body = (await response.json()) as { checks?: { outbox?: { pending: number } } };
  return body.checks?.outbox?.pending;
};

/** `alsoAudited`: users outside the load whose events the fault's own steps cause. */
async function runFault(
  stack: Stack,
  fault: string,
  users: string[],
  inject: () => Promise<number>,
  alsoAudited: string[] = [],
): Promise<FaultReport> {
  const load = new MutationLoad(stack.origin, users);
  await waitFor("the load to get going", async () => (load.acknowledgedCount >= 20 ? true : undefined));
  const restartMs = await inject();
  const restartedAt = Date.now();
  const before = load.acknowledgedCount;
  await waitFor("mutations to be acknowledged again", async () =>
    load.acknowledgedCount >= before + 20 ? true : undefined,
  );
  const { acknowledged, unacknowledged, failures } = await load.stop();
  await waitFor("the outbox to drain", async () => ((await pendingEvents(stack)) === 0 ? true : undefined));
  const drainedAfterRestartMs = Date.now() - restartedAt;

  const audited = [...users, ...alsoAudited];
  const records = await kafkaRecordsFor(stack.origin, stack.brokers, audited);
  const report = {
    fault,
    unacknowledged,
    failures,
    restartMs,
    drainedAfterRestartMs,
    ...(await audit(stack.origin, audited, acknowledged, records)),
  };
  reports.push(report);
  process.stderr.write(`[faults] ${JSON.stringify(report)}\n`);
  return report;
}

function expectNothingLost(report: FaultReport): void {
  expect({
    lost: report.lost,
    orderViolations: report.orderViolations,
    sequenceViolations: report.sequenceViolations,
    sequenceGaps: report.sequenceGaps,
    acknowledgedWithoutEvent: report.acknowledgedWithoutEvent,
    todosWithoutEvent: report.todosWithoutEvent,
  }).toEqual({
    lost: 0,
    orderViolations: 0,
    sequenceViolations: 0,
    sequenceGaps: 0,
    acknowledgedWithoutEvent: 0,
    todosWithoutEvent: 0,
  });
  expect(report.acknowledged).toBeGreaterThan(40);
  // A FAILED trigger was never published: the client was told so.
  expect(report.delivered).toBe(report.recorded - report.failed);
}

/** triggerTodoEvent as `userId`; returns the error code, or undefined when it was published. */
async function triggerAs(stack: Stack, userId: string, taskId: number): Promise<string | undefined> {
  const response = await postGraphQL(
    stack.origin,
    TriggerTodoEventDocument,
    { taskId, input: { action: "task_reviewed" } },
    asUser(userId),
  );
  if (response.body.data?.triggerTodoEvent.success === true) return undefined;
  return String(response.body.errors?.[0]?.extensions?.code);
}

describe("on SQLite", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ apiEnv: UNLIMITED });
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
    process.stderr.write(`[faults] summary ${JSON.stringify(reports)}\n`);
  }, STACK_STOP_TIMEOUT_MS);

  it(
    "loses nothing when daprd is killed (SIGKILL) and restarted",
    async () => {
      // Besides the load, one user triggers an event while the sidecar is down: its publish fails,
      // and the sequence it took must be the only gap among that user's records.
      const reviewer = "dk-reviewer";
      const taskId = await createTodoAs(stack.origin, reviewer, "reviewed across the crash");
      const outcomes: (string | undefined)[] = [];
      const report = await runFault(
        stack,
        "daprd SIGKILL",
        ["dk-1", "dk-2", "dk-3"],
        async () => {
          await stack.killDaprd();
          outcomes.push(await triggerAs(stack, reviewer, taskId));
          await new Promise((resolve) => setTimeout(resolve, 2000));
          const restartMs = await stack.startDaprd();
          outcomes.push(await triggerAs(stack, reviewer, taskId));
          return restartMs;
        },
        [reviewer],
      );
      expect(outcomes).toEqual(["EVENT_PUBLISH_FAILED", undefined]);
      expect({ failed: report.failed, failedSequenceGaps: report.failedSequenceGaps }).toEqual({
        failed: 1,
        failedSequenceGaps: 1,
      });
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "loses nothing when the Kafka broker is stopped and restarted",
    async () => {
      const report = await runFault(stack, "Kafka stop/start", ["kb-1", "kb-2", "kb-3"], async () => {
        await stack.stopKafka();
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return stack.startKafka();
      });
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "stops gracefully on SIGTERM under load: in-flight requests finish, exit 0 within the deadline",
    async () => {
      let shutdown = { code: null as number | null, ms: 0 };
      const report = await runFault(stack, "API SIGTERM (graceful)", ["gs-1", "gs-2", "gs-3"], async () => {
        shutdown = await stack.stopApi();
        return stack.startApi();
      });
      process.stderr.write(
        `[faults] graceful shutdown ${JSON.stringify({ ...shutdown, failures: report.failures })}\n`,
      );

      expect(shutdown.code).toBe(0);
      expect(shutdown.ms).toBeLessThan(10_000);
      // No request was processed without its answer reaching the client: every recorded event was
      // acknowledged. (A client may still see a reset when it reuses an idle keep-alive socket the
      // server is closing; such a request was never read, which the equality proves.)
      expect(report.recorded).toBe(report.acknowledged);
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "loses nothing when the API is killed (SIGKILL) mid-relay and restarted",
    async () => {
      const report = await runFault(stack, "API SIGKILL", ["ak-1", "ak-2", "ak-3"], async () => {
        await stack.killApi();
        return stack.startApi();
      });
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );
});

describe("on PostgreSQL", () => {
  let stack: Stack;
  let postgres: TempPostgres;
  beforeAll(async () => {
    postgres = startTempPostgres("todo-faults-pg");
    stack = await startStack({ databaseUrl: postgres.url, apiEnv: UNLIMITED });
  }, STACK_START_TIMEOUT_MS);
  afterAll(() => stopAll(stack, postgres), STACK_STOP_TIMEOUT_MS);

  it(
    "loses nothing when the database restarts",
    async () => {
      const report = await runFault(stack, "PostgreSQL restart", ["pg-1", "pg-2", "pg-3"], async () => {
        const from = Date.now();
        postgres.restart();
        return Date.now() - from;
      });
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );
});
