/**
 * The soak's pass/fail rules, computed from the samples of the steady phase. Memory and handles
 * compare a window at the start (after a warm-up that is left out) with the last window, so a
 * slow leak shows as growth between the two while GC noise inside a window does not.
 */
import { retentionIntervalMs } from "../../src/events/log/retention";
import type { ApiReading } from "./api-metrics";
import type { MajorGc } from "./gc-trace";
import type { DeliveryAudit } from "./kafka-delivery";

/** One reading during the steady phase. */
export interface Sample extends ApiReading {
  /** Seconds since the steady phase started. */
  readonly tSec: number;
  /** Answers and errors since the steady phase started. */
  readonly responses: number;
  readonly errors: number;
}

export interface VerdictInputs {
  readonly samples: readonly Sample[];
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly windowSec: number;
  readonly targetRps: number;
  /** Errors over both load phases (the maximum's closed loop and the steady phase). */
  readonly errors: number;
  /** Seconds from the end of the load until the outbox was empty; undefined when it was not within the limit. */
  readonly drainSec: number | undefined;
  readonly drainLimitSec: number;
  readonly delivery?: DeliveryAudit;
  /** Major collections of the API during the steady phase. */
  readonly majorGcs: readonly MajorGc[];
  /** The API's event retention in seconds; undefined when the soak left it at the API's default. */
  readonly retentionSec?: number;
}

export interface Verdict {
  readonly name: string;
  readonly rule: string;
  /** The numbers the rule was applied to, in words. */
  readonly figures: string;
  readonly pass: boolean;
  /** False when the rule does not apply to this run (say, no retention set); such a verdict passes, having nothing to judge. */
  readonly applicable?: boolean;
}

export interface WindowStats {
  readonly from: number;
  readonly to: number;
  readonly samples: number;
}

/** Growth allowed between the windows, for RSS and the heap floor. */
export const MEMORY_GROWTH_LIMIT = 0.1;
/** The oldest unpublished event may be this old at most while the load runs. */
export const OUTBOX_AGE_LIMIT_SEC = 10;
/** The last window must achieve this share of the target rate. */
export const RATE_HELD_SHARE = 0.9;
/** Growth allowed for the event log's rows between the settled window and the last window. */
export const LOG_GROWTH_LIMIT = 0.25;
/** Handles may grow by this many, or by 10% of the first window's maximum when that is more. */
const HANDLE_SLACK = 5;

export function firstWindow(
  samples: readonly Sample[],
  inputs: Pick<VerdictInputs, "warmupSec" | "windowSec">,
): Sample[] {
  return samples.filter((s) => s.tSec >= inputs.warmupSec && s.tSec < inputs.warmupSec + inputs.windowSec);
}

export function lastWindow(
  samples: readonly Sample[],
  inputs: Pick<VerdictInputs, "durationSec" | "windowSec">,
): Sample[] {
  return samples.filter((s) => s.tSec >= inputs.durationSec - inputs.windowSec);
}

export function judge(inputs: VerdictInputs): Verdict[] {
  const first = firstWindow(inputs.samples, inputs);
  const last = lastWindow(inputs.samples, inputs);
  const windows =
    `first window ${inputs.warmupSec}–${inputs.warmupSec + inputs.windowSec} s (${first.length} samples), ` +
    `last window ${inputs.durationSec - inputs.windowSec}–${inputs.durationSec} s (${last.length} samples)`;
  const verdicts: Verdict[] = [];
  const empty = first.length === 0 || last.length === 0;

  const afterWarmup = inputs.samples.filter((s) => s.tSec >= inputs.warmupSec);
  {
    const name = "RSS flat";
    const rule =
      `the median VmRSS of the last window is at most ${percent(MEMORY_GROWTH_LIMIT, false)} above the median of ` +
      "the first window (a drop passes); the slope is a least-squares fit over the samples after the warm-up";
    if (empty) {
      verdicts.push({ name, rule, figures: `no samples in a window (${windows})`, pass: false });
    } else {
      const before = median(first.map((s) => s.rssMb));
      const after = median(last.map((s) => s.rssMb));
      const change = after / before - 1;
      const slope = slopePerMinute(afterWarmup.map((s) => [s.tSec, s.rssMb]));
      verdicts.push({
        name,
        rule,
        figures: `${mb(before)} → ${mb(after)} (${percent(change)}); slope ${signed(slope, 2)} MB/min`,
        pass: change <= MEMORY_GROWTH_LIMIT,
      });
    }
  }
  verdicts.push(heapVerdict(inputs));

  {
    const rule =
      "the maximum of `nodejs_active_handles_total` in the last window is at most the maximum of the first " +
      `window plus ${HANDLE_SLACK} or 10%, whichever is more (each load connection is a handle); the slope is for information`;
    if (empty) {
      verdicts.push({ name: "handles not growing", rule, figures: `no samples in a window (${windows})`, pass: false });
    } else {
      const before = Math.max(...first.map((s) => s.activeHandles));
      const after = Math.max(...last.map((s) => s.activeHandles));
      const allowed = before + Math.max(HANDLE_SLACK, Math.ceil(before * 0.1));
      const slope = slopePerMinute(afterWarmup.map((s) => [s.tSec, s.activeHandles]));
      verdicts.push({
        name: "handles not growing",
        rule,
        figures: `${before} → ${after} (allowed ${allowed}); slope ${signed(slope, 2)} handles/min`,
        pass: after <= allowed,
      });
    }
  }

  {
    const maxPending = Math.max(0, ...inputs.samples.map((s) => s.outboxPending));
    const maxAge = Math.max(0, ...inputs.samples.map((s) => s.outboxOldestAgeSec));
    const drained =
      inputs.drainSec === undefined
        ? `not empty ${inputs.drainLimitSec} s after`
        : `empty ${inputs.drainSec.toFixed(1)} s after`;
    verdicts.push({
      name: "outbox backlog bounded",
      rule:
        `in every sample the oldest pending outbox event is at most ${OUTBOX_AGE_LIMIT_SEC} s old (a relay that ` +
        `falls behind lets that age grow without bound), and the outbox is empty within ${inputs.drainLimitSec} s ` +
        "after the load stops",
      figures: `max pending ${maxPending}, max oldest age ${maxAge.toFixed(1)} s; ${drained} the load stopped`,
      pass: inputs.samples.length > 0 && maxAge <= OUTBOX_AGE_LIMIT_SEC && inputs.drainSec !== undefined,
    });
  }

  verdicts.push({
    name: "no errors",
    rule:
      "no non-2xx answer, answer with GraphQL `errors`, socket error or timeout, counted over the warm-up, " +
      "the maximum and the steady phase",
    figures: `${inputs.errors} errors`,
    pass: inputs.errors === 0,
  });

  {
    const rate = windowRate(last);
    const rule =
      `the answers per second over the last window (between its first and last sample) reach ` +
      `${percent(RATE_HELD_SHARE, false)} of the target: an API that slowed down over the run could not keep it`;
    verdicts.push(
      rate === undefined
        ? { name: "load held", rule, figures: `fewer than 2 samples in the last window`, pass: false }
        : {
            name: "load held",
            rule,
            figures: `${rate.toFixed(0)} req/s of ${inputs.targetRps} targeted`,
            pass: rate >= RATE_HELD_SHARE * inputs.targetRps,
          },
    );
  }

  if (inputs.delivery !== undefined) {
    const { delivery } = inputs;
    verdicts.push({
      name: "every acknowledged event in Kafka",
      rule:
        "each acknowledged `createTodo` has a `task_created` record for its todo id in `todo-events`, each " +
        "acknowledged `completeTodo` a `task_completed` record, each `triggerTodoEvent` a record with the event id " +
        "it returned (figures: created / completed / triggered)",
      figures:
        `${delivery.acknowledged.create} created, ${delivery.acknowledged.complete} completed, ` +
        `${delivery.acknowledged.trigger} triggered; missing ${delivery.missing.create} / ${delivery.missing.complete} / ` +
        `${delivery.missing.trigger}; ${delivery.records} records, ${delivery.duplicates} duplicates`,
      pass: delivery.lost === 0,
    });
  }
  verdicts.push(logSizeVerdict(inputs));
  return verdicts;
}

/**
 * Heap used saw-tooths between major collections (by 100 MB and more under this load), so samples
 * taken every few seconds mostly measure when the last collection ran. The heap right after each
 * mark-compact (from --trace-gc) is the floor a leak would lift.
 */
function heapVerdict(inputs: VerdictInputs): Verdict {
  const name = "heap flat";
  const rule =
    `the median heap used right after the major collections (mark-compact, from \`node --trace-gc\`) of the last ` +
    `window is at most ${percent(MEMORY_GROWTH_LIMIT, false)} above that median of the first window; a sample ` +
    "of heap used at a random moment would measure when the last collection ran, not what stays alive";
  const inWindow = (from: number, to: number): number[] =>
    inputs.majorGcs.filter((gc) => gc.tSec >= from && gc.tSec < to).map((gc) => gc.afterMb);
  const first = inWindow(inputs.warmupSec, inputs.warmupSec + inputs.windowSec);
  const last = inWindow(inputs.durationSec - inputs.windowSec, inputs.durationSec);
  if (first.length === 0 || last.length === 0) {
    return {
      name,
      rule,
      figures: `no major collection in a window (first ${first.length}, last ${last.length}; ${inputs.majorGcs.length} in all)`,
      pass: false,
    };
  }
  const before = median(first);
  const after = median(last);
  const change = after / before - 1;
  const slope = slopePerMinute(
    inputs.majorGcs.filter((gc) => gc.tSec >= inputs.warmupSec).map((gc) => [gc.tSec, gc.afterMb]),
  );
  return {
    name,
    rule,
    figures:
      `${mb(before)} → ${mb(after)} (${percent(change)}; ${first.length} and ${last.length} collections); ` +
      `slope ${signed(slope, 2)} MB/min`,
    pass: change <= MEMORY_GROWTH_LIMIT,
  };
}

/**
 * With retention on, the log holds about one retention's worth of the steady load. Until one
 * retention and the prune pass after it have gone by, it still holds the rows of the setup and
 * the maximum's closed loop, or is still filling up, so the reference is the first window after
 * that rather than the first window of the other verdicts. From then on the log only saw-tooths
 * by what one prune interval appends (a tenth of a retention), well inside the allowed growth;
 * a log that retention does not keep up with grows by all that was appended between the windows.
 */
function logSizeVerdict(inputs: VerdictInputs): Verdict {
  const name = "event log bounded by retention";
  const { retentionSec, durationSec, windowSec } = inputs;
  const ruleFor = (intervalSec: number | undefined): string =>
    `the maximum of the log's rows (\`checks.outbox.span\` of \`/readyz\`: ids from its oldest row to its newest) in the last window is ` +
    `at most ${percent(LOG_GROWTH_LIMIT, false)} above their mean in the settled window: the first window of ` +
    `${seconds(windowSec)} that starts after the warm-up and at least one retention` +
    (intervalSec === undefined
      ? " plus one prune interval"
      : ` (${seconds(retentionSec ?? 0)}) plus one prune interval (${seconds(intervalSec)})`) +
    " into the steady phase, once the rows of the setup and the maximum have been pruned; not applicable " +
    "without a retention short enough for that window to end before the last one";
  if (retentionSec === undefined) {
    return {
      name,
      rule: ruleFor(undefined),
      figures: "not applicable: no retention set, so the API keeps its default (30 days), longer than the soak",
      pass: true,
      applicable: false,
    };
  }
  const intervalSec = retentionIntervalMs(retentionSec * 1000) / 1000;
  const rule = ruleFor(intervalSec);
  const from = Math.max(inputs.warmupSec, retentionSec + intervalSec);
  const to = from + windowSec;
  const lastFrom = durationSec - windowSec;
  if (to > lastFrom) {
    return {
      name,
      rule,
      figures:
        `not applicable: the settled window (${seconds(from)}–${seconds(to)}) does not end before the last window ` +
        `starts (${seconds(lastFrom)}); run longer or with a shorter retention`,
      pass: true,
      applicable: false,
    };
  }
  const settled = inputs.samples.filter((s) => s.tSec >= from && s.tSec < to).map((s) => s.logRows);
  const last = lastWindow(inputs.samples, inputs);
  if (settled.length === 0 || last.length === 0) {
    return {
      name,
      rule,
      figures: `no samples in a window (settled ${settled.length}, last ${last.length})`,
      pass: false,
    };
  }
  const mean = settled.reduce((sum, rows) => sum + rows, 0) / settled.length;
  const highest = Math.max(...last.map((s) => s.logRows));
  const limit = Math.floor(mean * (1 + LOG_GROWTH_LIMIT));
  const slope = slopePerMinute(inputs.samples.filter((s) => s.tSec >= from).map((s) => [s.tSec, s.logRows]));
  const change = mean > 0 ? `, ${percent(highest / mean - 1)}` : "";
  // Each answer appends one event: a retention of the load is what the log should hold, give or take an interval.
  const rate = windowRate(last);
  const expected =
    rate === undefined ? "" : `; a retention of the last window's load is ${Math.round(rate * retentionSec)} rows`;
  return {
    name,
    rule,
    figures:
      `settled window ${seconds(from)}–${seconds(to)}: mean ${Math.round(mean)} rows ` +
      `(${Math.min(...settled)}–${Math.max(...settled)}); last window: max ${highest} rows ` +
      `(allowed ${limit}${change}); slope ${signed(slope, 0)} rows/min after the settling${expected}`,
    pass: highest <= limit,
  };
}

/** Responses per second between the first and the last sample of a window. */
export function windowRate(window: readonly Sample[]): number | undefined {
  if (window.length < 2) return undefined;
  const from = window[0];
  const to = window[window.length - 1];
  return (to.responses - from.responses) / (to.tSec - from.tSec);
}

/** Least-squares slope of y over t, per minute (t in seconds). */
export function slopePerMinute(points: readonly (readonly [t: number, y: number])[]): number {
  if (points.length < 2) return 0;
  const meanT = points.reduce((sum, [t]) => sum + t, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [t, y]) => sum + (t - meanT) * (y - meanY), 0);
  const variance = points.reduce((sum, [t]) => sum + (t - meanT) ** 2, 0);
  return variance === 0 ? 0 : (covariance / variance) * 60;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const mb = (value: number): string => `${value.toFixed(1)} MB`;
const seconds = (value: number): string => `${Number.isInteger(value) ? value : value.toFixed(1)} s`;
const signed = (value: number, digits: number): string => `${value >= 0 ? "+" : ""}${value.toFixed(digits)}`;
function percent(share: number, sign = true): string {
  const text = `${(share * 100).toFixed(sign ? 1 : 0)}%`;
  return sign && share >= 0 ? `+${text}` : text;
}
