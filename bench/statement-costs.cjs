/* global process */
/**
 * Preloaded into the API (`--require`) to find what its SQLite statements cost: wraps
 * better-sqlite3's run/all/get, adds up the process's CPU time (user + system) spent in each
 * SQL text, and writes a table of them to STATEMENT_COSTS_OUT when the process exits. The
 * getrusage calls around every statement add about a microsecond each; use it to rank
 * statements, not for the benchmark's figures.
 *
 *   npm run bench -- --scenarios trigger --concurrency 64 --repeats 1 --requests 10000 \
 *     --databases sqlite --drain 0 --no-docs \
 *     --node-args="--require=$PWD/bench/statement-costs.cjs" --api-env STATEMENT_COSTS_OUT=/tmp/costs.md
 */
const { writeFileSync } = require("node:fs");
const Database = require("better-sqlite3");

const out = process.env.STATEMENT_COSTS_OUT;
if (out !== undefined) {
  const probe = new Database(":memory:");
  const Statement = Object.getPrototypeOf(probe.prepare("select 1"));
  probe.close();
  const costs = new Map();
  for (const method of ["run", "all", "get"]) {
    const original = Statement[method];
    Statement[method] = function (...parameters) {
      const start = process.cpuUsage();
      try {
        return original.apply(this, parameters);
      } finally {
        const spent = process.cpuUsage(start);
        const sqlText = this.source.replace(/\s+/g, " ").trim();
        const cost = costs.get(sqlText) ?? { calls: 0, micros: 0 };
        cost.calls += 1;
        cost.micros += spent.user + spent.system;
        costs.set(sqlText, cost);
      }
    };
  }
  process.on("exit", () => {
    const rows = [...costs].sort((a, b) => b[1].micros - a[1].micros);
    const lines = ["| calls | CPU µs per call | CPU ms | statement |", "| ---: | ---: | ---: | --- |"];
    for (const [sqlText, cost] of rows) {
      const shown = sqlText.length > 120 ? `${sqlText.slice(0, 120)}…` : sqlText;
      lines.push(
        `| ${cost.calls} | ${(cost.micros / cost.calls).toFixed(1)} | ${(cost.micros / 1000).toFixed(0)} | \`${shown}\` |`,
      );
    }
    writeFileSync(out, `${lines.join("\n")}\n`);
  });
}
