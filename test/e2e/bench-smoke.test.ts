/**
 * Keeps the benchmark harness (bench/) from rotting: one scenario for about a second through the
 * real stack, and the report it renders has rows. Not a performance assertion.
 */
import { runBench } from "../../bench/harness";
import { renderMarkdown } from "../../bench/report";
import { STACK_START_TIMEOUT_MS } from "../stack/stack";

describe("the benchmark harness", () => {
  it(
    "runs the me-query scenario for a second and reports a row for it",
    async () => {
      const report = await runBench({
        databases: ["sqlite"],
        scenarios: ["me"],
        concurrencies: [1],
        repeats: 1,
        durationSec: 1,
        warmupSec: 0,
        drainEvents: 0,
        log: () => undefined,
      });

      const rows = report.runs[0]?.rows ?? [];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ scenario: "me", concurrency: 1, errors: 0 });
      expect(rows[0]?.requests).toBeGreaterThan(0);
      expect(rows[0]?.rssMb).toBeGreaterThan(0);
      const markdown = renderMarkdown(report, "npm run bench", undefined);
      expect(markdown).toMatch(/^\| \(4\) me query \(GraphQL baseline\) \| 1 \| [\d.]+ \|/m);
    },
    STACK_START_TIMEOUT_MS,
  );
});
