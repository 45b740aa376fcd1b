/** Turns a BenchReport into docs/benchmarks.md: tables, ratios and the performance targets the API is held to. */
import { SCENARIO_LABELS, type BenchReport, type DatabaseRun, type Row, type ScenarioName } from "./harness";

const TARGET_CONCURRENCY = 64;

export interface Ratios {
  readonly triggerOverRaw?: number;
  readonly triggerOverSeed?: number;
  readonly createOverSeed?: number;
  readonly drainOverRaw?: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly met: boolean | undefined;
  readonly evidence: string;
}

function row(run: DatabaseRun, scenario: ScenarioName, concurrency = TARGET_CONCURRENCY): Row | undefined {
  return run.rows.find((candidate) => candidate.scenario === scenario && candidate.concurrency === concurrency);
}

/** The raw publish limit: the best raw throughput at any concurrency. */
function rawLimit(run: DatabaseRun): Row | undefined {
  const raws = run.rows.filter((candidate) => candidate.scenario === "raw");
  return raws.reduce<Row | undefined>(
    (best, next) => (best === undefined || next.rps > best.rps ? next : best),
    undefined,
  );
}

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

export function ratios(run: DatabaseRun): Ratios {
  const out: Record<string, number> = {};
  const set = (key: keyof Ratios, value: number | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set("triggerOverRaw", ratio(row(run, "trigger")?.rps, row(run, "raw")?.rps));
  set("triggerOverSeed", ratio(row(run, "trigger")?.rps, row(run, "seed")?.rps));
  set("createOverSeed", ratio(row(run, "create")?.rps, row(run, "seed")?.rps));
  set("drainOverRaw", ratio(run.drain?.eventsPerSec, rawLimit(run)?.rps));
  return out;
}

/** daprd's CPU per raw publish at the target concurrency: the yardstick of the API's cost per event. */
function daprdPerPublish(run: DatabaseRun): number | undefined {
  return row(run, "raw")?.cpuUsPerRequest.daprd;
}

export function targets(run: DatabaseRun): TargetCheck[] {
  const raw = row(run, "raw");
  const trigger = row(run, "trigger");
  const create = row(run, "create");
  const me = row(run, "me");
  const seed = row(run, "seed");
  const limit = rawLimit(run);
  const daprd = daprdPerPublish(run);
  const checks: TargetCheck[] = [];
  const c = `c=${TARGET_CONCURRENCY}`;
  const api = (r: Row | undefined): number | undefined => r?.cpuUsPerRequest.api;

  const meApi = api(me);
  if (meApi !== undefined) {
    checks.push({
      target: `API CPU per \`me\` ≤ 150 µs (${c})`,
      met: meApi <= 150,
      evidence: `${fmt(meApi)} µs` + floorNote(run, meApi),
    });
  }
  for (const [name, mine, factor] of [
    ["triggerTodoEvent", trigger, 1.5],
    ["createTodo", create, 2],
  ] as const) {
    const cost = api(mine);
    if (cost === undefined || daprd === undefined) continue;
    checks.push({
      target: `API CPU per ${name} ≤ ${factor} × daprd's CPU per raw publish (${c}; delivery and relay included)`,
      met: cost <= factor * daprd,
      evidence: `${fmt(cost)} vs ${fmt(daprd)} µs = ${fmtRatio(cost / daprd)}`,
    });
  }
  const perDelivery = raw?.apiCpuUsPerDelivery;
  if (perDelivery !== undefined) {
    checks.push({
      target: `API CPU per received delivery ≤ 50 µs (raw publish scenario, ${c})`,
      met: perDelivery <= 50,
      evidence: `${fmt(perDelivery)} µs over ${raw?.runs.reduce((sum, r) => sum + (r.deliveries ?? 0), 0)} deliveries`,
    });
  }
  if (raw !== undefined && trigger !== undefined) {
    checks.push({
      target: `triggerTodoEvent throughput ≥ 0.5 × raw publish (${c})`,
      met: trigger.rps >= 0.5 * raw.rps,
      evidence: `${fmt(trigger.rps)} vs ${fmt(raw.rps)} req/s = ${fmtRatio(trigger.rps / raw.rps)}`,
    });
  }
  if (seed !== undefined) {
    for (const [name, mine, factor] of [
      ["triggerTodoEvent", trigger, 5],
      ["createTodo", create, 3.5],
    ] as const) {
      if (mine === undefined) continue;
      checks.push({
        target: `${name} throughput ≥ ${factor} × the FastAPI seed (${c})`,
        met: mine.rps >= factor * seed.rps,
        evidence: `${fmt(mine.rps)} / ${fmt(seed.rps)} req/s = ${fmtRatio(mine.rps / seed.rps)}`,
      });
    }
  }
  if (run.drain !== undefined && limit !== undefined) {
    checks.push({
      target: "relay drain ≥ the raw single-publish limit",
      met: run.drain.eventsPerSec >= limit.rps,
      evidence:
        `${fmt(run.drain.eventsPerSec)} events/s vs raw best ${fmt(limit.rps)} req/s (c=${limit.concurrency}) = ` +
        fmtRatio(run.drain.eventsPerSec / limit.rps),
    });
  }
  const apiRss = run.rows
    .filter((candidate) => ["trigger", "create", "me"].includes(candidate.scenario))
    .map((candidate) => candidate.rssMb ?? 0);
  if (apiRss.length > 0) {
    const peak = Math.max(...apiRss);
    checks.push({ target: "API RSS under load ≤ 200 MB", met: peak <= 200, evidence: `peak ${fmt(peak)} MB` });
  }
  checks.push({
    target: "API start-up to ready ≤ 1.5 s (excluding the sidecar)",
    met: run.timings.apiReadyMs <= 1500,
    evidence: `${run.timings.apiReadyMs} ms from spawn to /readyz 200 (polled every 100 ms)`,
  });
  const errors = run.rows.reduce((sum, r) => sum + r.errors, 0);
  checks.push({ target: "no errors in any scenario", met: errors === 0, evidence: `${errors} errors` });
  return checks;
}

function floorNote(run: DatabaseRun, cost: number): string {
  const floor = row(run, "floor")?.cpuUsPerRequest.floor;
  return floor === undefined ? "" : `; the framework floor ${fmt(floor)} µs (${fmtRatio(cost / floor)})`;
}

/** CPU µs per request of each process at the target concurrency, with the ratios the targets use. */
function cpuTable(run: DatabaseRun): string[] {
  const daprd = daprdPerPublish(run);
  const floor = row(run, "floor")?.cpuUsPerRequest.floor;
  const cell = (value: number | undefined): string => (value === undefined ? "—" : fmt(value));
  const lines = [
    `CPU time per request (c=${TARGET_CONCURRENCY}; user + system from /proc/<pid>/stat, from the first request until ` +
      "the run's relay work and deliveries were done; medians over the repeats):",
    "",
    "| scenario | requests | API µs | daprd µs | Kafka µs | seed / floor µs | API µs per delivery | API / daprd raw | API / floor |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of run.rows.filter((candidate) => candidate.concurrency === TARGET_CONCURRENCY)) {
    const cpu = r.cpuUsPerRequest;
    const own = cpu.api;
    lines.push(
      `| ${SCENARIO_LABELS[r.scenario]} | ${r.requests} | ${cell(own)} | ${cell(cpu.daprd)} | ${cell(cpu.kafka)} | ` +
        // Per delivery only where the API does nothing else: elsewhere it is the request's whole cost.
        `${cell(cpu.seed ?? cpu.floor)} | ${cell(r.scenario === "raw" ? r.apiCpuUsPerDelivery : undefined)} | ` +
        `${fmtRatio(ratio(own, daprd))} | ${fmtRatio(ratio(own, floor))} |`,
    );
  }
  lines.push("");
  return lines;
}

export function renderMarkdown(report: BenchReport, command: string, chartFile: string | undefined): string {
  const { machine, options } = report;
  const lines: string[] = [
    "# Benchmarks",
    "",
    "```sh",
    command,
    "```",
    "",
    `Generated by \`bench/\` from one run (${report.startedAt} to ${report.finishedAt}). Machine: ${machine.cores} cores ` +
      `(${machine.cpuModel}), ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}; daprd 1.18.2, Kafka 3.9.2, ` +
      "everything on loopback on the same machine (the load generator, autocannon, included).",
    "",
    `Each scenario runs ${options.requests} requests per repeat at concurrency 16 and above (a tenth at concurrency 1; ` +
      "the seed a fifth of that) " +
      `at concurrency ${options.concurrencies.join(", ")}; ` +
      `${options.repeats} repeats, scenarios interleaved within a repeat; req/s, p50 and p99 are medians over the repeats, ` +
      "errors are summed (non-2xx, socket errors, and 2xx GraphQL answers with `errors`), RSS is the peak VmRSS of the " +
      "serving process (the API; uvicorn for the seed; the floor server) sampled every 200 ms." +
      (options.singleDeliveries === true
        ? " Deliveries one request per event (`--single-deliveries`), not through the subscription's bulkSubscribe."
        : ""),
    "",
  ];
  if (chartFile !== undefined) lines.push(`![throughput and p99 latency against concurrency](${chartFile})`, "");
  lines.push(
    "How to read it:",
    "",
    "- Everything shares two cores: the API (one Node thread), daprd, the Kafka JVM, uvicorn and the load generator. " +
      "The 1-minute load average at the start and end of each run is recorded below; other work on the machine " +
      "lowers every number of that run, which is why the ratios compare scenarios interleaved within one run.",
    "- Every event published to `todo-events` is also delivered back to the API by daprd's subscription " +
      "(`POST /dapr/todo-events`, the WebSocket fan-out), in every scenario that publishes, the raw one included.",
    "- CPU time per request is the figure of merit: on two shared cores throughput mostly shows how the cores " +
      "were shared, while the CPU a process spends per request barely moves with it. It counts every thread of " +
      "the process, and the process's idle work during the run (Kafka's and daprd's background threads) too.",
    "- The framework floor (6) is an Apollo server with nothing else in it on the product's HTTP layer, verifying " +
      "the same HS256 token and answering `me` (`bench/floor-server.ts`): what any server on this stack pays.",
    "- Every run is a fixed number of requests rather than a fixed time: a timed run ends by closing connections, " +
      "daprd cancels the in-flight publishes, and the circuit breaker of `components/resiliency.yaml` counts the " +
      "cancellations as failures.",
    "- RSS of the raw scenario is not the API's (the API only receives the deliveries), so it is left out.",
    "- The API runs with the V8 flags of `package.json` `config.apiNodeFlags` (`--max-old-space-size=192`), as " +
      "`npm start` and the Kubernetes Deployment do.",
    "- What was changed to get here, with before/after figures and the profile: [performance.md](performance.md).",
    "",
  );

  for (const run of report.runs) {
    lines.push(`## ${run.database === "sqlite" ? "SQLite" : "PostgreSQL"} run`, "");
    lines.push(
      `API start-up to ready: **${run.timings.apiReadyMs} ms** (spawn to /readyz 200); daprd ready ${run.timings.daprdReadyMs} ms. ` +
        `Load average ${run.loadAverage.start.toFixed(2)} at the start, ${run.loadAverage.end.toFixed(2)} at the end.`,
      "",
    );
    lines.push("| scenario | concurrency | req/s | p50 ms | p99 ms | errors | requests | RSS MB |");
    lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const r of run.rows) {
      lines.push(
        `| ${SCENARIO_LABELS[r.scenario]} | ${r.concurrency} | ${fmt(r.rps)} | ${r.p50Ms} | ${r.p99Ms} | ${r.errors} | ` +
          `${r.requests} | ${r.rssMb === undefined ? "—" : fmt(r.rssMb)} |`,
      );
    }
    lines.push("");
    lines.push(...cpuTable(run));
    if (run.drain !== undefined) {
      lines.push(
        `Relay drain: **${fmt(run.drain.eventsPerSec)} events/s** (${run.drain.events} createTodo events queued in the outbox ` +
          `with daprd stopped, at ${fmt(run.drain.backlogBuildRps)} req/s; ${run.drain.ms} ms from daprd answering again to the ` +
          "last of them read back from Kafka).",
        "",
      );
    }
    const r = ratios(run);
    lines.push(`Ratios (c=${TARGET_CONCURRENCY}, this run):`, "");
    lines.push(`- (2)/(1) triggerTodoEvent / raw publish: ${fmtRatio(r.triggerOverRaw)}`);
    lines.push(`- (2)/(5) triggerTodoEvent / seed: ${fmtRatio(r.triggerOverSeed)}`);
    lines.push(`- (3)/(5) createTodo / seed: ${fmtRatio(r.createOverSeed)}`);
    lines.push(`- relay drain / (1) best raw publish: ${fmtRatio(r.drainOverRaw)}`, "");
    lines.push("| target | met | numbers |", "| --- | --- | --- |");
    for (const check of targets(run)) {
      lines.push(
        `| ${check.target} | ${check.met === undefined ? "—" : check.met ? "yes" : "**no**"} | ${check.evidence} |`,
      );
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function fmtRatio(value: number | undefined): string {
  return value === undefined ? "—" : `${value.toFixed(2)}×`;
}
