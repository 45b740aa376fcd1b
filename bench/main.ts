/**
 * `npm run bench`: the benchmark (see harness.ts). Writes docs/benchmarks.md, docs/benchmarks.png and
 * bench/results/latest.json. `npm run bench -- --profile <scenario>` instead runs one scenario
 * (me, trigger, create, or raw for the delivery route) at concurrency 64 under `node --cpu-prof`
 * on SQLite and prints where the API's CPU time goes.
 *
 * Options: --requests <n per run> --repeats <n> --warmup <requests> --drain <events> --concurrency 1,16,64
 *          --scenarios raw,trigger,create,me,seed,floor[,floor-express,floor-node] --databases sqlite,postgres
 *          --no-docs
 *          --single-deliveries (one delivery request per event, instead of the subscription's bulkSubscribe)
 *          --node-args=<flags for the API's node, e.g. --node-args=--max-semi-space-size=4> (experiments)
 *          --api-env KEY=VALUE (repeatable; e.g. --api-env PUBLISH_BULK_MAX_ENTRIES=1 for one publish per event)
 *          --render-only (write docs/ again from bench/results/latest.json, without running anything)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { format, resolveConfig } from "prettier";
import { runToCompletion } from "../test/stack/processes";
import {
  DEFAULT_SCENARIOS,
  runBench,
  SCENARIOS,
  type BenchReport,
  type DatabaseKind,
  type ScenarioName,
} from "./harness";
import { renderProfile, summariseProfile } from "./profile";
import { ensurePythonEnv } from "./python-env";
import { renderMarkdown } from "./report";

const REPO_ROOT = resolve(__dirname, "..");
const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: "string", default: "10000" },
      repeats: { type: "string", default: "3" },
      warmup: { type: "string", default: "2000" },
      drain: { type: "string", default: "5000" },
      concurrency: { type: "string", default: "1,16,64" },
      scenarios: { type: "string", default: DEFAULT_SCENARIOS.join(",") },
      databases: { type: "string", default: "sqlite,postgres" },
      profile: { type: "string" },
      "single-deliveries": { type: "boolean", default: false },
      "no-docs": { type: "boolean", default: false },
      "node-args": { type: "string", default: "" },
      "api-env": { type: "string", multiple: true, default: [] },
      "render-only": { type: "boolean", default: false },
    },
  });
  const list = (text: string): string[] => text.split(",").filter((part) => part !== "");
  const scenarios = list(values.scenarios) as ScenarioName[];
  for (const scenario of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new Error(`unknown scenario ${scenario}`);
  }

  const singleDeliveries = values["single-deliveries"];

  if (values.profile !== undefined) {
    const scenario = values.profile as ScenarioName;
    if (!["me", "trigger", "create", "raw"].includes(scenario)) throw new Error("--profile me|trigger|create|raw");
    const dir = mkdtempSync(join(tmpdir(), "todo-bench-prof-"));
    const report = await runBench({
      databases: ["sqlite"],
      scenarios: [scenario],
      concurrencies: [64],
      repeats: 1,
      requests: Number(values.requests),
      warmupRequests: Number(values.warmup),
      drainEvents: 0,
      apiNodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
      singleDeliveries,
      log,
    });
    const row = report.runs[0]?.rows[0];
    log(
      `profiled run: ${row?.rps.toFixed(0)} req/s, API ${row?.cpuUsPerRequest.api?.toFixed(0)} CPU µs/req ` +
        "(both worse than unprofiled)",
    );
    const file = readdirSync(dir).find((name) => name.endsWith(".cpuprofile"));
    if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
    process.stdout.write(`${join(dir, file)}\n\n${renderProfile(summariseProfile(join(dir, file)))}`);
    return;
  }

  const resultsDir = join(REPO_ROOT, "bench/results");
  const json = join(resultsDir, "latest.json");
  if (values["render-only"]) {
    await writeDocs(
      JSON.parse(readFileSync(json, "utf8")) as BenchReport,
      json,
      commandOf(argv.filter((arg) => arg !== "--render-only")),
    );
    return;
  }

  const nodeArgs = values["node-args"].split(" ").filter((part) => part !== "");
  const apiEnv = Object.fromEntries(
    values["api-env"].map((pair) => {
      const at = pair.indexOf("=");
      if (at <= 0) throw new Error(`--api-env wants KEY=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const report = await runBench({
    ...(nodeArgs.length === 0 ? {} : { apiNodeArgs: nodeArgs }),
    apiEnv,
    databases: list(values.databases) as DatabaseKind[],
    scenarios,
    concurrencies: list(values.concurrency).map(Number),
    repeats: Number(values.repeats),
    requests: Number(values.requests),
    warmupRequests: Number(values.warmup),
    drainEvents: Number(values.drain),
    singleDeliveries,
    log,
  });
  mkdirSync(resultsDir, { recursive: true });
  // Formatted like the rest of the tree, so `prettier --check bench` passes.
  const prettier = { ...(await resolveConfig(json)), filepath: json };
  writeFileSync(json, await format(JSON.stringify(report), prettier));
  log(`results in ${json}`);
  if (values["no-docs"]) return;
  await writeDocs(report, json, commandOf(argv));
}

function commandOf(argv: readonly string[]): string {
  return `npm run bench${argv.length === 0 ? "" : ` -- ${argv.join(" ")}`}`;
}

/** docs/benchmarks.png (chart.py in the bench virtualenv) and docs/benchmarks.md. */
async function writeDocs(report: BenchReport, json: string, command: string): Promise<void> {
  const python = await ensurePythonEnv(log);
  const png = join(REPO_ROOT, "docs/benchmarks.png");
  await runToCompletion(python, [join(__dirname, "chart.py"), json, png], {
    label: "chart",
    timeoutMs: 120_000,
    cwd: REPO_ROOT,
  });
  const markdownFile = join(REPO_ROOT, "docs/benchmarks.md");
  const markdown = renderMarkdown(report, command, "benchmarks.png");
  writeFileSync(
    markdownFile,
    await format(markdown, { ...(await resolveConfig(markdownFile)), filepath: markdownFile }),
  );
  log("wrote docs/benchmarks.md and docs/benchmarks.png");
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
