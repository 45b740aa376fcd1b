/**
 * Keeps the benchmark harness (bench/) from rotting: a few hundred requests of the me query and of
 * a publishing scenario through the real stack, and the report it renders has rows with CPU time
 * per request for the processes involved. Not a performance assertion.
 */
import { runBench } from "../../bench/harness";
import { renderMarkdown } from "../../bench/report";
import { STACK_START_TIMEOUT_MS } from "../stack/stack";

describe("the benchmark harness", () => {
  it(
    "runs the me query and a trigger, and reports throughput and CPU per request for them",
    async () => {
      const report = await runBench({
        databases: ["sqlite"],
        scenarios: ["me", "trigger"],
        concurrencies: [16],
        repeats: 1,
        requests: 300,
        warmupRequests: 0,
        drainEvents: 0,
        log: () => undefined,
      });

      const rows = report.runs[0]?.rows ?? [];
      expect(rows.map((row) => row.scenario)).toEqual(["me", "trigger"]);
      const [me, trigger] = rows;
      expect(me).toMatchObject({ scenario: "me", concurrency: 16, errors: 0, requests: 300 });
      expect(me?.rssMb).toBeGreaterThan(0);
      expect(me?.cpuUsPerRequest.api).toBeGreaterThan(0);
      // Every trigger is delivered back to the API before the counters are read.
      expect(trigger?.runs[0]?.deliveries).toBe(300);
      expect(trigger?.cpuUsPerRequest.daprd).toBeGreaterThan(0);
      expect(trigger?.cpuUsPerRequest.kafka).toBeGreaterThan(0);
      expect(trigger?.apiCpuUsPerDelivery).toBeGreaterThan(0);
      const markdown = renderMarkdown(report, "npm run bench", undefined);
      expect(markdown).toMatch(/^\| \(4\) me query \(GraphQL baseline\) \| 16 \| [\d.]+ \|/m);
      expect(markdown).toMatch(/^\| \(2\) triggerTodoEvent via API \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/m);
    },
    STACK_START_TIMEOUT_MS,
  );
});
