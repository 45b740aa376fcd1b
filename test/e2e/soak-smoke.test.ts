/**
 * Keeps the soak (bench/soak/) from rotting: a few seconds of each phase through the real stack,
 * with windows of a few samples. Checks that samples, verdicts and the report section are
 * produced and that nothing failed or went missing; not a performance or leak assertion.
 */
import { renderSoakSection } from "../../bench/soak/report";
import { runSoak } from "../../bench/soak/soak";
import { STACK_START_TIMEOUT_MS } from "../stack/stack";

describe("the soak", () => {
  it(
    "samples the API under steady load, judges the samples and finds every acknowledged event in Kafka",
    async () => {
      const report = await runSoak({
        database: "sqlite",
        durationSec: 16,
        rateFraction: 0.5,
        sampleSec: 2,
        warmupSec: 2,
        windowSec: 4,
        maxDurationSec: 3,
        maxWarmupSec: 0,
        connections: 8,
        users: 8,
        drainLimitSec: 30,
        log: () => undefined,
      });

      expect(report.samples).toHaveLength(8);
      for (const sample of report.samples) {
        expect(sample.rssMb).toBeGreaterThan(0);
        expect(sample.heapUsedMb).toBeGreaterThan(0);
        expect(sample.activeHandles).toBeGreaterThan(0);
      }
      expect(report.steady.responses).toBeGreaterThan(0);
      expect(report.samples[report.samples.length - 1]?.responses).toBeGreaterThan(0);
      expect(report.errors).toBe(0);
      expect(report.drainSec).not.toBeNull();
      expect(report.delivery.lost).toBe(0);
      expect(report.delivery.acknowledged.trigger).toBeGreaterThan(0);
      expect(report.verdicts.map((verdict) => verdict.name)).toEqual([
        "RSS flat",
        "heap flat",
        "handles not growing",
        "outbox backlog bounded",
        "no errors",
        "load held",
        "every acknowledged event in Kafka",
        "event log bounded by retention",
      ]);
      const markdown = renderSoakSection(report, "npm run soak");
      expect(markdown).toMatch(/^## Soak$/m);
      expect(markdown).toMatch(/^\| no errors \| pass \| 0 errors \|$/m);
    },
    STACK_START_TIMEOUT_MS,
  );
});
