/**
 * A three-node KRaft Kafka cluster on loopback (every node a broker and a controller), from the
 * same cached assembly as the single broker (scripts/infra/run-kafka.sh), with `todo-events` at
 * replication factor 3 and min.insync.replicas=2, as production runs it. Fault tests kill, stop
 * and restart single nodes and read the partition's leader and in-sync replicas.
 */
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { acceptsTcp, delay, ManagedProcess, waitUntil } from "./processes";

const REPO_ROOT = resolve(__dirname, "../..");
const RUN_KAFKA = join(REPO_ROOT, "scripts/infra/run-kafka.sh");
const NODE_IDS = [1, 2, 3] as const;
export const CLUSTER_REPLICATION_FACTOR = 3;
export const CLUSTER_MIN_INSYNC_REPLICAS = 2;
const NODE_START_TIMEOUT_MS = 2 * 60_000;
/** Three JVMs share two cores with the rest of the stack: a smaller heap each than the single broker's. */
const NODE_HEAP = "-Xmx384m -Xms384m";

export interface PartitionState {
  /** Node id of the leader, -1 while there is none. */
  readonly leader: number;
  readonly isr: readonly number[];
  readonly replicas: readonly number[];
}

export interface KafkaCluster {
  /** "127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>" */
  readonly brokers: string;
  readonly nodeIds: readonly number[];
  readonly processes: readonly ManagedProcess[];
  isRunning(nodeId: number): boolean;
  /** SIGKILL: a crash, no controlled shutdown. */
  kill(nodeId: number): Promise<void>;
  /** SIGTERM: a controlled shutdown (SIGKILL after 30 s, e.g. when no controller quorum is left). */
  stop(nodeId: number): Promise<void>;
  /** Starts the node again with its data on its ports; resolves when it accepts TCP. Returns the ms it took. */
  start(nodeId: number): Promise<number>;
  /** Partition 0 of `topic` as a live node reports it. */
  partition(topic: string): Promise<PartitionState>;
  /** Waits until `holds` is true of partition 0; returns the state and the ms it took. */
  waitForPartition(
    topic: string,
    what: string,
    holds: (state: PartitionState) => boolean,
    timeoutMs?: number,
  ): Promise<{ state: PartitionState; ms: number }>;
  /** Stops every running node at once; returns what would not stop. */
  stopAll(): Promise<string[]>;
}

export async function startKafkaCluster(
  workDir: string,
  ports: { readonly broker: readonly number[]; readonly controller: readonly number[] },
  topic: string,
): Promise<KafkaCluster> {
  const clusterId = randomBytes(16).toString("base64url");
  const voters = NODE_IDS.map((id, i) => `${id}@127.0.0.1:${ports.controller[i]}`).join(",");
  const brokers = ports.broker.map((port) => `127.0.0.1:${port}`).join(",");
  /** The latest process of each node (a restart replaces it). */
  const nodes = new Map<number, ManagedProcess>();
  const index = (nodeId: number): number => NODE_IDS.indexOf(nodeId as (typeof NODE_IDS)[number]);

  const launch = (nodeId: number, keepData: boolean): ManagedProcess => {
    const i = index(nodeId);
    const node = ManagedProcess.start({
      name: `kafka${nodeId}`,
      command: "bash",
      args: [RUN_KAFKA, String(ports.broker[i]), join(workDir, `kafka${nodeId}`)],
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KAFKA_NODE_ID: String(nodeId),
        KAFKA_CONTROLLER_PORT: String(ports.controller[i]),
        KAFKA_QUORUM_VOTERS: voters,
        KAFKA_CLUSTER_ID: clusterId,
        KAFKA_REPLICATION_FACTOR: String(CLUSTER_REPLICATION_FACTOR),
        KAFKA_MIN_INSYNC_REPLICAS: String(CLUSTER_MIN_INSYNC_REPLICAS),
        KAFKA_HEAP_OPTS: NODE_HEAP,
        ...(keepData ? { KAFKA_KEEP_DATA: "1" } : {}),
      },
      logFile: join(workDir, `kafka${nodeId}.log`),
    });
    nodes.set(nodeId, node);
    return node;
  };
  const awaitTcp = (nodeId: number, node: ManagedProcess): Promise<void> =>
    waitUntil(() => acceptsTcp(ports.broker[index(nodeId)]), {
      what: `Kafka node ${nodeId} to accept TCP on 127.0.0.1:${ports.broker[index(nodeId)]}`,
      timeoutMs: NODE_START_TIMEOUT_MS,
      intervalMs: 200,
      process: node,
    });

  const admin = async <T>(use: (client: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> => {
    // Only the running nodes: kafkajs would otherwise spend its retries on the dead ones.
    const live = NODE_IDS.filter((id) => nodes.get(id)?.exit === undefined).map(
      (id) => `127.0.0.1:${ports.broker[index(id)]}`,
    );
    const kafka = new Kafka({
      clientId: "todo-faults-cluster-admin",
      brokers: live,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 5000,
      retry: { retries: 2, initialRetryTime: 100 },
    });
    const client = kafka.admin();
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.disconnect();
    }
  };

  const partition = (name: string): Promise<PartitionState> =>
    admin(async (client) => {
      const metadata = await client.fetchTopicMetadata({ topics: [name] });
      const found = metadata.topics[0]?.partitions.find((p) => p.partitionId === 0);
      if (found === undefined) throw new Error(`${name} has no partition 0`);
      return { leader: found.leader, isr: [...found.isr].sort(), replicas: [...found.replicas].sort() };
    });

  const cluster: KafkaCluster = {
    brokers,
    nodeIds: NODE_IDS,
    get processes() {
      return [...nodes.values()];
    },
    isRunning: (nodeId) => nodes.get(nodeId)?.exit === undefined,
    async kill(nodeId) {
      await nodes.get(nodeId)?.kill();
    },
    async stop(nodeId) {
      await nodes.get(nodeId)?.stop(30_000);
    },
    async start(nodeId) {
      if (cluster.isRunning(nodeId)) throw new Error(`Kafka node ${nodeId} is already running`);
      const from = performance.now();
      await awaitTcp(nodeId, launch(nodeId, true));
      return Math.round(performance.now() - from);
    },
    partition,
    async waitForPartition(name, what, holds, timeoutMs = 90_000) {
      const from = performance.now();
      let last: PartitionState | string = "not read yet";
      for (;;) {
        try {
          const state = await partition(name);
          if (holds(state)) return { state, ms: Math.round(performance.now() - from) };
          last = state;
        } catch (error) {
          last = (error as Error).message;
        }
        if (performance.now() - from > timeoutMs) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
        }
        await delay(250);
      }
    },
    async stopAll() {
      // All at once: stopped one by one, the last nodes would wait for a controller quorum that
      // is gone. Their exit codes say nothing then; only a node that outlives SIGKILL is a failure.
      const outcomes = await Promise.allSettled(
        [...nodes.values()].filter((node) => node.exit === undefined).map((node) => node.stop(15_000)),
      );
      return outcomes
        .filter((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected")
        .map((outcome) => (outcome.reason as Error).message);
    },
  };

  try {
    // All three at once: each waits for the controller quorum, which needs two of them.
    await Promise.all(NODE_IDS.map((id) => awaitTcp(id, launch(id, false))));
    // The controller quorum forms a moment after the nodes listen: retry until it answers.
    await waitUntil(
      () =>
        admin(async (client) => {
          await client.createTopics({
            topics: [
              {
                topic,
                numPartitions: 1,
                replicationFactor: CLUSTER_REPLICATION_FACTOR,
                configEntries: [{ name: "min.insync.replicas", value: String(CLUSTER_MIN_INSYNC_REPLICAS) }],
              },
            ],
            waitForLeaders: true,
          });
          return true;
        }).catch(() => false),
      { what: `${topic} to be created with replication factor 3`, timeoutMs: 60_000, intervalMs: 500 },
    );
    await cluster.waitForPartition(topic, `${topic} to have a leader and all three replicas in sync`, (state) => {
      return state.leader > 0 && state.isr.length === CLUSTER_REPLICATION_FACTOR;
    });
  } catch (error) {
    await cluster.stopAll();
    throw error;
  }
  return cluster;
}
