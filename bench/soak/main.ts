/**
 * `npm run soak`: the soak (see soak.ts). Writes bench/results/soak-latest.json and
 * the "## Soak" section of docs/reliability.md, and exits 1 when a verdict fails (after writing).
 *
 * Options: --duration <s> (600) --rate-fraction <share> (0.7) --sample <s> (10)
 *          --warmup <s> (10% of the duration) --window <s> (20% of the duration)
 *          --max-duration <s> (20) --max-warmup <s> (5) --connections <n> (64) --users <n> (64)
 *          --drain-limit <s> (30) --database sqlite|postgres (sqlite) --no-docs
 *          --retention-days <days> (unset: the API's default, 30; decimals allowed, 0.0007 is about 60 s)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { format, resolveConfig } from "prettier";
import { renderSoakSection, replaceSoakSection } from "./report";
import { runSoak, type DatabaseKind } from "./soak";

const REPO_ROOT = resolve(__dirname, "../..");
const log = (message: string): void => {
  process.stderr.write(`[soak] ${message}\n`);
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "600" },
      "rate-fraction": { type: "string", default: "0.7" },
      sample: { type: "string", default: "10" },
      warmup: { type: "string" },
      window: { type: "string" },
      "max-duration": { type: "string", default: "20" },
      "max-warmup": { type: "string", default: "5" },
      connections: { type: "string", default: "64" },
      users: { type: "string", default: "64" },
      "drain-limit": { type: "string", default: "30" },
      database: { type: "string", default: "sqlite" },
      "retention-days": { type: "string" },
      "no-docs": { type: "boolean", default: false },
    },
  });
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, not ${text}`);
    return value;
  };
  const database = values.database as DatabaseKind;
  if (database !== "sqlite" && database !== "postgres") throw new Error(`unknown --database ${values.database}`);
  const durationSec = number("duration", values.duration);
  const retentionText = values["retention-days"];
  // The API checks the range when it starts; zero is caught here, before a stack is started for nothing.
  const retentionDays = retentionText === undefined ? undefined : number("retention-days", retentionText);
  if (retentionDays === 0) throw new Error("--retention-days must be more than 0");

  const report = await runSoak({
    database,
    durationSec,
    rateFraction: number("rate-fraction", values["rate-fraction"]),
    sampleSec: number("sample", values.sample),
    warmupSec: values.warmup === undefined ? Math.round(durationSec * 0.1) : number("warmup", values.warmup),
    windowSec: values.window === undefined ? Math.round(durationSec * 0.2) : number("window", values.window),
    maxDurationSec: number("max-duration", values["max-duration"]),
    maxWarmupSec: number("max-warmup", values["max-warmup"]),
    connections: number("connections", values.connections),
    users: number("users", values.users),
    drainLimitSec: number("drain-limit", values["drain-limit"]),
    ...(retentionDays === undefined ? {} : { retentionDays }),
    log,
  });

  for (const verdict of report.verdicts) {
    const outcome = verdict.applicable === false ? "N/A" : verdict.pass ? "PASS" : "FAIL";
    log(`${outcome} ${verdict.name}: ${verdict.figures} [rule: ${verdict.rule}]`);
  }
  const resultsDir = join(REPO_ROOT, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, "soak-latest.json");
  // Formatted like the rest of the tree, so `prettier --check bench` passes.
  writeFileSync(json, await format(JSON.stringify(report), { ...(await resolveConfig(json)), filepath: json }));
  log(`results in ${json}`);
  if (!values["no-docs"]) {
    const command = `npm run soak${argv.length === 0 ? "" : ` -- ${argv.join(" ")}`}`;
    const markdownFile = join(REPO_ROOT, "docs/reliability.md");
    const updated = replaceSoakSection(readFileSync(markdownFile, "utf8"), renderSoakSection(report, command));
    writeFileSync(
      markdownFile,
      await format(updated, { ...(await resolveConfig(markdownFile)), filepath: markdownFile }),
    );
    log("wrote the Soak section of docs/reliability.md");
  }
  log(report.pass ? "soak passed" : "soak FAILED: see the verdicts above");
  process.exitCode = report.pass ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`[soak] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
