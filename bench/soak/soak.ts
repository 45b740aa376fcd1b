/**
 * The soak: leaks and backlogs only show over minutes of sustained load, so on the real stack
 * (Kafka, daprd, the built API), measure the maximum of the mutation cycle with a short closed
 * loop, hold a share of it for the duration while sampling the API's memory, handles, outbox and log size,
 * wait for the outbox to drain, audit delivery in Kafka, and judge the samples.
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import { delay } from "../../test/stack/processes";
import { startTempPostgres, stopAll, type TempPostgres } from "../../test/stack/postgres";
import { startStack, type Stack } from "../../test/stack/stack";
import { describeMachine, type MachineInfo } from "../machine";
import { readApi, type ApiReading } from "./api-metrics";
import { majorGcs, processAgeMs, type MajorGc } from "./gc-trace";
import { auditDelivery, type DeliveryAudit } from "./kafka-delivery";
import { startMixedLoad, type MixedLoadResult, type RunningLoad } from "./mixed-load";
import { judge, type Sample, type Verdict } from "./verdicts";
import { createSoakUsers, Ledger } from "./workload";

export type DatabaseKind = "sqlite" | "postgres";

export interface SoakOptions {
  readonly database: DatabaseKind;
  /** Seconds of steady load. */
  readonly durationSec: number;
  /** Share of the measured maximum the steady phase runs at. */
  readonly rateFraction: number;
  readonly sampleSec: number;
  /** Left out of the comparison at the start of the steady phase. */
  readonly warmupSec: number;
  /** Length of the first and the last window the verdicts compare. */
  readonly windowSec: number;
  /** Closed-loop run whose req/s is the maximum. */
  readonly maxDurationSec: number;
  /** Unrecorded closed-loop run before it (JIT, connection pools); 0 to skip. */
  readonly maxWarmupSec: number;
  readonly connections: number;
  readonly users: number;
  /** The outbox must be empty this long after the load stops. */
  readonly drainLimitSec: number;
  /** The API's EVENT_RETENTION_DAYS; undefined keeps the API's default (30 days). */
  readonly retentionDays?: number;
  readonly log: (message: string) => void;
}

export interface SoakReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: Omit<SoakOptions, "log">;
  /** 1-minute load average at the start and the end of the steady phase (other work on the machine shows here). */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly maximum: MixedLoadResult;
  readonly targetRps: number;
  readonly steady: MixedLoadResult;
  /** The API idle, before the steady phase and after the drain. */
  readonly before: ApiReading;
  readonly after: ApiReading;
  readonly samples: readonly Sample[];
  /** The API's major collections during the steady phase (--trace-gc). */
  readonly majorGcs: readonly MajorGc[];
  /** Seconds from the end of the load until the outbox was empty; null when not within the limit. */
  readonly drainSec: number | null;
  readonly errors: number;
  readonly firstError?: string;
  readonly delivery: DeliveryAudit;
  readonly verdicts: readonly Verdict[];
  readonly pass: boolean;
}

/** Production mode without the per-user rate limit, which would otherwise throttle the soak's users. */
const SOAK_API_ENV: Readonly<Record<string, string>> = { NODE_ENV: "production", RATE_LIMIT_PER_MINUTE: "0" };
const TOPIC = "todo-events";
const OUTBOX_SETTLE_TIMEOUT_MS = 120_000;
const SECONDS_PER_DAY = 86_400;
/**
 * Samples are taken this far into a second. autocannon's overallRate gives each connection a
 * quota per second, which it sends back to back: the load arrives in a burst at the start of
 * every second, and a sample taken on the second would see the API between bursts (e.g. an
 * outbox the relay had just emptied).
 */
export const SAMPLE_PHASE_SEC = 0.5;
const AUDIT_TIMEOUT_MS = 5 * 60_000;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  checkWindows(options);
  const { log } = options;
  const startedAt = new Date().toISOString();
  let postgres: TempPostgres | undefined;
  let stack: Stack | undefined;
  let load: RunningLoad | undefined;
  let failed = true;
  try {
    if (options.database === "postgres") {
      postgres = startTempPostgres("todo-soak-pg");
      log(`PostgreSQL at ${postgres.url}`);
    }
    stack = await startStack({
      apiEnv: {
        ...SOAK_API_ENV,
        ...(options.retentionDays === undefined ? {} : { EVENT_RETENTION_DAYS: String(options.retentionDays) }),
      },
      // One line per collection in the API's log: the heap verdict reads the heap after each major one.
      apiNodeArgs: ["--trace-gc"],
      ...(postgres === undefined ? {} : { databaseUrl: postgres.url }),
    });
    const { origin, apiPid } = stack;
    const ledger = new Ledger();
    const users = await createSoakUsers(origin, options.users, ledger);
    await waitForEmptyOutbox(origin, apiPid, OUTBOX_SETTLE_TIMEOUT_MS);
    log(`${users.length} users ready`);

    const closedLoop = async (durationSec: number): Promise<MixedLoadResult> => {
      load = startMixedLoad({ origin, users, ledger, connections: options.connections, durationSec });
      const result = await load.done;
      load = undefined;
      await waitForEmptyOutbox(origin, apiPid, OUTBOX_SETTLE_TIMEOUT_MS);
      return result;
    };
    if (options.maxWarmupSec > 0) {
      const warm = await closedLoop(options.maxWarmupSec);
      log(`warm-up: ${warm.rps.toFixed(0)} req/s, ${warm.errors} errors`);
    }
    const maximum = await closedLoop(options.maxDurationSec);
    const targetRps = Math.max(1, Math.round(maximum.rps * options.rateFraction));
    log(
      `maximum: ${maximum.rps.toFixed(0)} req/s (closed loop, ${options.connections} connections, ` +
        `p99 ${maximum.p99Ms} ms, ${maximum.errors} errors); steady target ${targetRps} req/s`,
    );

    const before = await readApi(origin, apiPid);
    const loadAtStart = loadavg()[0] ?? 0;
    const responsesBefore = ledger.responses;
    const errorsBefore = ledger.errors;
    const steadyStart = performance.now();
    const apiAgeAtStartMs = processAgeMs(apiPid);
    const running = startMixedLoad({
      origin,
      users,
      ledger,
      connections: options.connections,
      durationSec: options.durationSec,
      overallRate: targetRps,
    });
    load = running;
    const samples: Sample[] = [];
    for (let tSec = SAMPLE_PHASE_SEC; tSec < options.durationSec; tSec += options.sampleSec) {
      await delay(Math.max(0, steadyStart + tSec * 1000 - performance.now()));
      const reading = await readApi(origin, apiPid, log);
      const sample: Sample = {
        tSec,
        ...reading,
        responses: ledger.responses - responsesBefore,
        errors: ledger.errors - errorsBefore,
      };
      samples.push(sample);
      log(describeSample(sample));
    }
    const steady = await running.done;
    load = undefined;
    const loadAtEnd = loadavg()[0] ?? 0;
    log(`steady: ${steady.rps.toFixed(0)} req/s of ${targetRps} targeted, ${steady.errors} errors`);

    const drainSec = await secondsUntilEmptyOutbox(origin, apiPid, options.drainLimitSec);
    log(
      drainSec === undefined
        ? `outbox not empty after ${options.drainLimitSec} s`
        : `outbox empty after ${drainSec.toFixed(1)} s`,
    );
    const after = await readApi(origin, apiPid);
    const collections = majorGcs(join(stack.workDir, "api.log"), apiPid, apiAgeAtStartMs).filter(
      (gc) => gc.tSec >= 0 && gc.tSec <= options.durationSec,
    );
    const delivery = await auditDelivery(stack.brokers, TOPIC, ledger, AUDIT_TIMEOUT_MS);
    log(
      `delivery: ${delivery.records} records read in ${delivery.readMs} ms, ${delivery.lost} acknowledged events missing`,
    );

    const verdicts = judge({
      samples,
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      windowSec: options.windowSec,
      targetRps,
      errors: ledger.errors,
      drainSec,
      drainLimitSec: options.drainLimitSec,
      delivery,
      majorGcs: collections,
      ...(options.retentionDays === undefined ? {} : { retentionSec: options.retentionDays * SECONDS_PER_DAY }),
    });
    failed = false;
    const { log: _log, ...recorded } = options;
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: describeMachine(),
      options: recorded,
      loadAverage: { start: loadAtStart, end: loadAtEnd },
      maximum,
      targetRps,
      steady,
      before,
      after,
      samples,
      majorGcs: collections,
      drainSec: drainSec ?? null,
      errors: ledger.errors,
      ...(ledger.firstError === undefined ? {} : { firstError: ledger.firstError }),
      delivery,
      verdicts,
      pass: verdicts.every((verdict) => verdict.pass),
    };
  } finally {
    load?.stop();
    if (failed) stack?.keepWorkDir();
    await stopAll(stack, postgres);
  }
}

/** The windows must fit in the steady phase without overlapping, and hold two samples each. */
function checkWindows(options: SoakOptions): void {
  const { durationSec, warmupSec, windowSec, sampleSec } = options;
  if (!(sampleSec > 0 && windowSec >= 2 * sampleSec)) {
    throw new Error(`the window (${windowSec} s) must hold at least two samples (every ${sampleSec} s)`);
  }
  if (warmupSec < 0 || warmupSec + 2 * windowSec > durationSec) {
    throw new Error(
      `warm-up ${warmupSec} s + two windows of ${windowSec} s do not fit in a steady phase of ${durationSec} s`,
    );
  }
  if (!(options.rateFraction > 0 && options.rateFraction <= 1)) {
    throw new Error(`the rate fraction must be in (0, 1], not ${options.rateFraction}`);
  }
}

async function waitForEmptyOutbox(origin: string, pid: number, timeoutMs: number): Promise<void> {
  const seconds = await secondsUntilEmptyOutbox(origin, pid, timeoutMs / 1000);
  if (seconds === undefined) throw new Error(`the outbox is not empty after ${timeoutMs} ms`);
}

/** Seconds until /metrics reports no pending outbox row, or undefined after `limitSec`. */
async function secondsUntilEmptyOutbox(origin: string, pid: number, limitSec: number): Promise<number | undefined> {
  const from = performance.now();
  for (;;) {
    const elapsedSec = (performance.now() - from) / 1000;
    if ((await readApi(origin, pid)).outboxPending === 0) return elapsedSec;
    if (elapsedSec > limitSec) return undefined;
    await delay(250);
  }
}

function describeSample(sample: Sample): string {
  return (
    `t=${sample.tSec}s rss ${sample.rssMb.toFixed(1)} MB, heap ${sample.heapUsedMb.toFixed(1)}/` +
    `${sample.heapTotalMb.toFixed(1)} MB, handles ${sample.activeHandles}, outbox ${sample.outboxPending} ` +
    `(oldest ${sample.outboxOldestAgeSec.toFixed(1)} s), log ${sample.logRows} rows, ${sample.responses} answers, ${sample.errors} errors`
  );
}
