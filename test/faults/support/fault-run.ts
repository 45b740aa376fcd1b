/**
 * One fault run on the real stack: a steady load, the fault injected once the load is going,
 * recovery, the outbox drained, then the audit against Kafka. Shared by the fault suites.
 */
import type { Stack } from "../../stack/stack";
import { audit, kafkaRecordsFor, type Audit } from "./audit";
import { MutationLoad } from "./mutation-load";

const RECOVERY_TIMEOUT_MS = 90_000;
/** A fault run: load, the fault, recovery, drain and the Kafka read-back. */
export const FAULT_TEST_TIMEOUT_MS = 5 * 60_000;
/** The load is a few users going flat out: per-user rate limiting would refuse most of it. */
export const UNLIMITED = { RATE_LIMIT_PER_MINUTE: "0" };

export interface FaultReport extends Audit {
  readonly fault: string;
  readonly unacknowledged: number;
  readonly failures: Readonly<Record<string, number>>;
  /** From the component being back until the outbox had published everything. */
  readonly drainedAfterRestartMs: number;
  readonly restartMs: number;
  /**
   * The oldest unpublished event's greatest age seen during the run (/readyz, sampled every
   * 200 ms): how long publishing was unavailable, to within a sample and a relay round.
   */
  readonly publishUnavailableMs: number;
}

export const reports: FaultReport[] = [];

export async function waitFor<T>(
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

interface OutboxCheck {
  readonly pending: number;
  readonly oldestPendingAgeMs: number | null;
}

const outboxOf = async (stack: Stack): Promise<OutboxCheck | undefined> => {
  const response = await fetch(`${stack.origin}/readyz`);
  const body = (await response.json()) as { checks?: { outbox?: OutboxCheck } };
  return body.checks?.outbox;
};

/** Samples the outbox's oldest pending age until stopped; the API may be down meanwhile. */
function sampleOldestPendingAge(stack: Stack): { stop(): Promise<number> } {
  let stopped = false;
  let greatest = 0;
  const sampling = (async () => {
    while (!stopped) {
      const outbox = await outboxOf(stack).catch(() => undefined);
      greatest = Math.max(greatest, outbox?.oldestPendingAgeMs ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await sampling;
      return greatest;
    },
  };
}

/** `alsoAudited`: users outside the load whose events the fault's own steps cause. */
export async function runFault(
  stack: Stack,
  fault: string,
  users: string[],
  inject: () => Promise<number>,
  alsoAudited: string[] = [],
  /** Pause after each user's create+complete pair: long faults would otherwise exhaust the load. */
  loadPauseMs = 0,
): Promise<FaultReport> {
  const load = new MutationLoad(stack.origin, users, undefined, loadPauseMs);
  const sampler = sampleOldestPendingAge(stack);
  await waitFor("the load to get going", async () => (load.acknowledgedCount >= 20 ? true : undefined));
  const restartMs = await inject();
  const restartedAt = Date.now();
  const before = load.acknowledgedCount;
  await waitFor("mutations to be acknowledged again", async () =>
    load.acknowledgedCount >= before + 20 ? true : undefined,
  );
  const { acknowledged, unacknowledged, failures } = await load.stop();
  await waitFor("the outbox to drain", async () => ((await outboxOf(stack))?.pending === 0 ? true : undefined));
  const drainedAfterRestartMs = Date.now() - restartedAt;
  const publishUnavailableMs = await sampler.stop();

  const audited = [...users, ...alsoAudited];
  const records = await kafkaRecordsFor(stack.origin, stack.brokers, audited);
  const report = {
    fault,
    unacknowledged,
    failures,
    restartMs,
    drainedAfterRestartMs,
    publishUnavailableMs,
    ...(await audit(stack.origin, audited, acknowledged, records)),
  };
  reports.push(report);
  process.stderr.write(`[faults] ${JSON.stringify(report)}\n`);
  return report;
}

export function expectNothingLost(report: FaultReport): void {
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
