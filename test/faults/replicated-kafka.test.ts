/**
 * Faults of a replicated Kafka, as production runs it: three KRaft brokers, `todo-events` at
 * replication factor 3 with min.insync.replicas=2, the Dapr component at
 * producerRequiredAcks=all. Under the same load and audit as the single-broker faults: the
 * partition leader killed, a follower killed, two brokers stopped (the ISR below
 * min.insync.replicas, so publishing must stop and the outbox hold everything), and a rolling
 * restart. The topic has one partition, so it carries every test user.
 */
import type { KafkaCluster, PartitionState } from "../stack/kafka-cluster";
import { CLUSTER_MIN_INSYNC_REPLICAS, CLUSTER_REPLICATION_FACTOR } from "../stack/kafka-cluster";
import { delay } from "../stack/processes";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";
import { expectNothingLost, FAULT_TEST_TIMEOUT_MS, reports, runFault, UNLIMITED } from "./support/fault-run";

const TOPIC = "todo-events";
/**
 * The load goes at about 300 mutations a second unpaced and stops after 6000; a leader election
 * or an ISR shrink waits out the broker session timeout (9 s) and a restart, so pace it.
 */
const LOAD_PAUSE_MS = 40;

const allInSync = (state: PartitionState): boolean =>
  state.leader > 0 && state.isr.length === CLUSTER_REPLICATION_FACTOR;

/** The sum of todo_events_publish_failed_total over its labels. */
async function failedPublishes(stack: Stack): Promise<number> {
  const text = await (await fetch(`${stack.origin}/metrics`)).text();
  return [...text.matchAll(/^todo_events_publish_failed_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

async function pendingEvents(stack: Stack): Promise<number> {
  const body = (await (await fetch(`${stack.origin}/readyz`)).json()) as { checks: { outbox: { pending: number } } };
  return body.checks.outbox.pending;
}

describe(`on a three-broker Kafka cluster (replication factor ${CLUSTER_REPLICATION_FACTOR}, min.insync.replicas=${CLUSTER_MIN_INSYNC_REPLICAS})`, () => {
  let stack: Stack;
  let cluster: KafkaCluster;
  beforeAll(async () => {
    stack = await startStack({ apiEnv: UNLIMITED, kafkaCluster: true });
    if (stack.kafkaCluster === undefined) throw new Error("the stack started without its Kafka cluster");
    cluster = stack.kafkaCluster;
  }, STACK_START_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
    process.stderr.write(`[faults] cluster summary ${JSON.stringify(reports)}\n`);
  }, STACK_STOP_TIMEOUT_MS);

  // Every scenario starts from a whole cluster, whatever the one before left behind.
  beforeEach(async () => {
    for (const id of cluster.nodeIds) if (!cluster.isRunning(id)) await cluster.start(id);
    await cluster.waitForPartition(TOPIC, "all three replicas in sync", allInSync);
  }, 3 * 60_000);

  it(
    "loses nothing when the partition leader is killed (SIGKILL) mid-load and restarted later",
    async () => {
      let killed = 0;
      let elected: PartitionState | undefined;
      let electionMs = 0;
      const report = await runFault(
        stack,
        "cluster: leader SIGKILL",
        ["lk-1", "lk-2", "lk-3"],
        async () => {
          killed = (await cluster.partition(TOPIC)).leader;
          await cluster.kill(killed);
          const election = await cluster.waitForPartition(
            TOPIC,
            "a new leader",
            (state) => state.leader > 0 && state.leader !== killed,
          );
          elected = election.state;
          electionMs = election.ms;
          await delay(5000);
          const restartMs = await cluster.start(killed);
          await cluster.waitForPartition(TOPIC, "the restarted node back in sync", allInSync);
          return restartMs;
        },
        [],
        LOAD_PAUSE_MS,
      );
      process.stderr.write(`[faults] leader election ${JSON.stringify({ killed, elected, electionMs })}\n`);

      expect(elected?.isr).not.toContain(killed);
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "loses nothing when a follower is killed (SIGKILL): the ISR shrinks to 2 and publishing goes on",
    async () => {
      let before: PartitionState | undefined;
      let shrunk: PartitionState | undefined;
      let shrinkMs = 0;
      const report = await runFault(
        stack,
        "cluster: follower SIGKILL",
        ["fk-1", "fk-2", "fk-3"],
        async () => {
          before = await cluster.partition(TOPIC);
          const leader = before.leader;
          const follower = before.replicas.find((id) => id !== leader)!;
          await cluster.kill(follower);
          const shrink = await cluster.waitForPartition(
            TOPIC,
            "the ISR to drop the killed follower",
            (state) => state.isr.length === 2 && !state.isr.includes(follower),
          );
          shrunk = shrink.state;
          shrinkMs = shrink.ms;
          await delay(3000);
          const restartMs = await cluster.start(follower);
          await cluster.waitForPartition(TOPIC, "the follower back in sync", allInSync);
          return restartMs;
        },
        [],
        LOAD_PAUSE_MS,
      );
      process.stderr.write(`[faults] follower ${JSON.stringify({ before, shrunk, shrinkMs })}\n`);

      expect(shrunk?.leader).toBe(before?.leader);
      expect(shrunk?.isr).toHaveLength(CLUSTER_MIN_INSYNC_REPLICAS);
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "holds every event in the outbox while the ISR is below min.insync.replicas, and drains once a broker returns",
    async () => {
      let stopped: number[] = [];
      const during = { failedPublishes: 0, pending: 0 };
      const report = await runFault(
        stack,
        "cluster: two brokers stopped",
        ["tb-1", "tb-2", "tb-3"],
        async () => {
          const state = await cluster.partition(TOPIC);
          stopped = state.replicas.filter((id) => id !== state.leader);
          const failedBefore = await failedPublishes(stack);
          for (const id of stopped) await cluster.stop(id);
          // Long enough for the relay to try, fail and back off several times.
          await delay(8000);
          during.failedPublishes = (await failedPublishes(stack)) - failedBefore;
          during.pending = await pendingEvents(stack);
          // One broker back is enough: two replicas in sync again.
          return cluster.start(stopped[0]);
        },
        [],
        LOAD_PAUSE_MS,
      );
      process.stderr.write(`[faults] two brokers stopped ${JSON.stringify({ stopped, during })}\n`);
      await cluster.start(stopped[1]);

      // Publishing was refused while mutations went on committing to the outbox.
      expect(during.failedPublishes).toBeGreaterThan(0);
      expect(during.pending).toBeGreaterThan(0);
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    "loses nothing in a rolling restart of all three brokers, one at a time, under load",
    async () => {
      const steps: { node: number; restartMs: number; inSyncMs: number }[] = [];
      const report = await runFault(
        stack,
        "cluster: rolling restart",
        ["rr-1", "rr-2", "rr-3"],
        async () => {
          const from = performance.now();
          for (const node of cluster.nodeIds) {
            await cluster.stop(node);
            const restartMs = await cluster.start(node);
            const { ms } = await cluster.waitForPartition(TOPIC, `node ${node} back in sync`, allInSync);
            steps.push({ node, restartMs, inSyncMs: ms });
          }
          return Math.round(performance.now() - from);
        },
        [],
        LOAD_PAUSE_MS,
      );
      process.stderr.write(`[faults] rolling restart ${JSON.stringify(steps)}\n`);

      expect(steps.map((step) => step.node)).toEqual([...cluster.nodeIds]);
      expectNothingLost(report);
    },
    FAULT_TEST_TIMEOUT_MS,
  );
});
