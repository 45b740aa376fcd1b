/** The "## Soak" section of docs/reliability.md, rendered from a soak report. */
import { SAMPLE_PHASE_SEC, type SoakReport } from "./soak";
import { firstWindow, lastWindow, median, windowRate, type Sample, type Verdict } from "./verdicts";

const SECTION_HEADING = "## Soak";
/** At most this many rows in the samples table; the JSON keeps every sample. */
const TABLE_ROWS = 14;
/** The length a soak needs to show steady memory and throughput (10 minutes); shorter runs say so. */
const FULL_SOAK_SEC = 600;
/** Prose is wrapped like the rest of docs/reliability.md (prettier keeps line breaks in Markdown). */
const WRAP = 100;

export function renderSoakSection(report: SoakReport, command: string): string {
  const { options, maximum, steady, machine } = report;
  const minutes = options.durationSec / 60;
  const length = Number.isInteger(minutes) ? `${minutes}-minute` : `${options.durationSec}-second`;
  const first = firstWindow(report.samples, options);
  const last = lastWindow(report.samples, options);
  const blocks: string[] = [
    SECTION_HEADING,
    paragraph(
      `Command: \`${command}\` (not part of CI). Raw samples: \`bench/results/soak-latest.json\`.` +
        (options.durationSec < FULL_SOAK_SEC
          ? ` This is a ${length} run, shorter than the issue's 10 minutes; \`npm run soak\` runs the full ${FULL_SOAK_SEC} s.`
          : ""),
    ),
    paragraph(
      `A ${length} run of ${report.startedAt.slice(0, 16).replace("T", " ")} UTC on ` +
        `${options.database === "sqlite" ? "SQLite" : "PostgreSQL"}: ${machine.cores} cores (${machine.cpuModel}), ` +
        `${machine.memoryGb} GB, Node.js ${machine.node}, with Kafka, daprd and the load generator on the same machine; ` +
        `1-minute load average ${report.loadAverage.start.toFixed(2)} at the start of the steady phase, ` +
        `${report.loadAverage.end.toFixed(2)} at its end.`,
    ),
    paragraph(
      `Workload: ${options.users} users; each of ${options.connections} autocannon connections repeats ` +
        "`createTodo` → `completeTodo` of that todo → `triggerTodoEvent` on it, taking the users in turn. " +
        "The API runs as in production (`NODE_ENV=production`) with the per-user rate limit off " +
        "(`RATE_LIMIT_PER_MINUTE=0`)" +
        (options.retentionDays === undefined
          ? ", the event retention at its default (30 days)"
          : `, events pruned after ${options.retentionDays} days (\`EVENT_RETENTION_DAYS=${options.retentionDays}\`, ` +
            `${(options.retentionDays * 86_400).toFixed(1)} s)`) +
        ", with the V8 flags of `package.json` `config.apiNodeFlags` " +
        "(`--max-old-space-size=192`) and `node --trace-gc` (one log line per collection); its events go " +
        "through daprd to Kafka.",
    ),
    [
      item(
        "1.",
        `**Maximum**: closed loop for ${options.maxDurationSec} s` +
          (options.maxWarmupSec > 0 ? ` (after an unrecorded ${options.maxWarmupSec} s warm-up)` : "") +
          `: ${maximum.rps.toFixed(0)} req/s, p50 ${maximum.p50Ms} ms, p99 ${maximum.p99Ms} ms.`,
      ),
      item(
        "2.",
        `**Steady phase**: ${options.durationSec} s at ${pct(options.rateFraction)} of that, a target of ` +
          `${report.targetRps} req/s (autocannon \`overallRate\`): ${steady.rps.toFixed(1)} req/s achieved, ` +
          `${steady.responses} answers, p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms. autocannon gives each ` +
          "connection a quota per second, which it sends back to back, so the load arrives in a burst at the " +
          "start of every second. Sampled every " +
          `${options.sampleSec} s, ${SAMPLE_PHASE_SEC} s into the second (inside a burst): VmRSS of the API ` +
          "process from `/proc`; from its `/metrics` `nodejs_heap_size_used_bytes`, " +
          "`nodejs_active_handles_total` and `nodejs_eventloop_lag_p99_seconds` (prom-client resets it at " +
          "each scrape, so it covers the time since the previous sample); and the outbox backlog (pending " +
          "rows, age of the oldest) and the log's size (its rows, whatever their status) from `/readyz`, whose " +
          "one query gives all three.",
      ),
      item(
        "3.",
        `**Windows**: the first ${options.warmupSec} s are a warm-up, left out; the verdicts compare the first ` +
          `window (${options.warmupSec}–${options.warmupSec + options.windowSec} s, ${first.length} samples, ` +
          `${fmtRate(windowRate(first))} req/s) with the last (${options.durationSec - options.windowSec}–` +
          `${options.durationSec} s, ${last.length} samples, ${fmtRate(windowRate(last))} req/s).`,
      ),
      item(
        "4.",
        "**After the load**: the outbox drained, then `todo-events` was read back from Kafka and every " +
          "acknowledged mutation of the whole run (setup, maximum and steady phase) looked up in it.",
      ),
    ].join("\n"),
    [
      "| verdict | result | figures |",
      "| --- | --- | --- |",
      ...report.verdicts.map((verdict) => `| ${verdict.name} | ${outcome(verdict)} | ${verdict.figures} |`),
    ].join("\n"),
    ["Rules:", "", ...report.verdicts.map((verdict) => item("-", `${verdict.name}: ${verdict.rule}.`))].join("\n"),
    paragraph(
      "Where RSS goes (window medians, first → last): V8's heap total (`nodejs_heap_size_total_bytes`, the " +
        `heap V8 has reserved) ${windowChange(first, last, (s) => s.heapTotalMb)}; RSS minus heap total ` +
        `(native memory, code, stacks) ${windowChange(first, last, (s) => s.rssMb - s.heapTotalMb)}.`,
    ),
    paragraph(
      `Major collections during the steady phase: ${report.majorGcs.length}` +
        (report.majorGcs.length === 0
          ? "."
          : `, heap used ${range(report.majorGcs.map((gc) => gc.beforeMb))} MB before them and ` +
            `${range(report.majorGcs.map((gc) => gc.afterMb))} MB after them.`),
    ),
    paragraph(
      `Idle API before the steady phase: RSS ${mb(report.before.rssMb)}, heap used ${mb(report.before.heapUsedMb)}, ` +
        `${report.before.activeHandles} handles; after the drain: RSS ${mb(report.after.rssMb)}, heap used ` +
        `${mb(report.after.heapUsedMb)}, ${report.after.activeHandles} handles.` +
        (report.firstError === undefined ? "" : ` First error: \`${report.firstError.replace(/`/g, "'")}\`.`),
    ),
    "Samples" +
      (report.samples.length > TABLE_ROWS ? ` (every ${stride(report.samples) * options.sampleSec} s)` : "") +
      ":",
    [
      "| t (s) | RSS (MB) | heap used / total (MB) | external (MB) | handles | event-loop lag p99 (ms) | outbox pending | oldest pending (s) | log rows | answers | errors |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...tableSamples(report.samples).map(
        (s) =>
          `| ${s.tSec} | ${s.rssMb.toFixed(1)} | ${s.heapUsedMb.toFixed(1)} / ${s.heapTotalMb.toFixed(1)} | ` +
          `${s.externalMb.toFixed(1)} | ${s.activeHandles} | ${s.eventLoopLagP99Ms.toFixed(1)} | ${s.outboxPending} | ` +
          `${s.outboxOldestAgeSec.toFixed(1)} | ${s.logRows} | ${s.responses} | ${s.errors} |`,
      ),
    ].join("\n"),
    `Overall: **${report.pass ? "pass" : "FAIL"}**.`,
  ];
  return `${blocks.join("\n\n")}\n`;
}

/** Replaces the "## Soak" section (up to the next "## " heading or the end) with `section`. */
export function replaceSoakSection(document: string, section: string): string {
  const start = document.search(/^## Soak\s*$/m);
  if (start < 0) return `${document.trimEnd()}\n\n${section}`;
  const rest = document.slice(start + SECTION_HEADING.length);
  const next = rest.search(/^## /m);
  const tail = next < 0 ? "" : `\n${rest.slice(next)}`;
  return `${document.slice(0, start)}${section.trimEnd()}\n${tail}`;
}

function stride(samples: readonly Sample[]): number {
  return Math.max(1, Math.ceil(samples.length / TABLE_ROWS));
}

/** Every n-th sample, always with the last. */
function tableSamples(samples: readonly Sample[]): Sample[] {
  const step = stride(samples);
  const picked = samples.filter((_, index) => index % step === 0);
  const last = samples[samples.length - 1];
  if (last !== undefined && picked[picked.length - 1] !== last) picked.push(last);
  return picked;
}

function paragraph(text: string): string {
  return wrap(text, "", "");
}

/** A list item whose continuation lines are indented under its text. */
function item(marker: string, text: string): string {
  return wrap(text, `${marker} `, " ".repeat(marker.length + 1));
}

function wrap(text: string, firstPrefix: string, restPrefix: string): string {
  const lines: string[] = [];
  let line = firstPrefix;
  let empty = true;
  for (const word of unbreakable(text)) {
    if (!empty && line.length + 1 + word.length > WRAP) {
      lines.push(line);
      line = restPrefix + word;
    } else {
      line += empty ? word : ` ${word}`;
    }
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** The words of `text`, keeping an inline code span (`npm run soak`) in one piece. */
function unbreakable(text: string): string[] {
  const words: string[] = [];
  for (const word of text.split(" ")) {
    const previous = words[words.length - 1];
    const insideCode = previous !== undefined && (previous.split("`").length - 1) % 2 === 1;
    if (insideCode) words[words.length - 1] = `${previous} ${word}`;
    else words.push(word);
  }
  return words;
}

function windowChange(first: readonly Sample[], last: readonly Sample[], pick: (s: Sample) => number): string {
  if (first.length === 0 || last.length === 0) return "n/a";
  return `${median(first.map(pick)).toFixed(1)} → ${median(last.map(pick)).toFixed(1)} MB`;
}

/** "min–max (median m)" */
function range(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)} (median ${median(values).toFixed(1)})`;
}

const outcome = (verdict: Verdict): string =>
  verdict.applicable === false ? "not applicable" : verdict.pass ? "pass" : "**FAIL**";
const mb = (value: number): string => `${value.toFixed(1)} MB`;
const pct = (share: number): string => `${Math.round(share * 100)}%`;
const fmtRate = (rate: number | undefined): string => (rate === undefined ? "n/a" : rate.toFixed(1));
