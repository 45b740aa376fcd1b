/**
 * The real stack that the e2e, faults and scale tiers, the benchmark and the soak
 * run against: a single-node Kafka broker (or, with `kafkaCluster`, three), the Dapr sidecar (daprd) with the
 * project's `kafka` resources profile, and the built API (`node dist/src/main.js`)
 * with its own SQLite database. Ports are free loopback ones chosen at run time, so
 * runs never collide with each other or with a developer's own services. Installs
 * come from scripts/infra (cached after the first run). Every process started here
 * is stopped by `stop()`, also when a start step fails.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_JWT_SECRET } from "../support/tokens";
import { waitForConsumerGroup } from "./kafka";
import { startKafkaCluster, type KafkaCluster } from "./kafka-cluster";
import { acceptsTcp, httpStatus, ManagedProcess, runToCompletion, waitUntil } from "./processes";

const REPO_ROOT = resolve(__dirname, "../..");
const API_ENTRY = join(REPO_ROOT, "dist/src/main.js");
/** The V8 flags the API runs with everywhere (npm start, the Kubernetes Deployment): package.json config. */
const API_NODE_FLAGS = (
  JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { config: { apiNodeFlags: string } }
).config.apiNodeFlags
  .split(" ")
  .filter((flag) => flag !== "");
const INFRA = join(REPO_ROOT, "scripts/infra");

const MINUTE = 60_000;
/** A fresh machine builds daprd from source (~7–10 min on 2 cores, more on a slow one). */
const DAPRD_INSTALL_TIMEOUT_MS = 30 * MINUTE;
const KAFKA_INSTALL_TIMEOUT_MS = 10 * MINUTE;
/** Covers the installs plus starting everything; use it for the suite's beforeAll. */
export const STACK_START_TIMEOUT_MS = DAPRD_INSTALL_TIMEOUT_MS + 5 * MINUTE;
export const STACK_STOP_TIMEOUT_MS = 2 * MINUTE;

export interface StackPorts {
  readonly kafka: number;
  readonly api: number;
  readonly daprHttp: number;
  readonly daprGrpc: number;
  readonly daprInternalGrpc: number;
  readonly daprMetrics: number;
}

/** Milliseconds from the start of `startStack()`. */
export interface StartupTimings {
  /** Locating (or building) daprd and Kafka. */
  readonly installMs: number;
  /** From spawning the broker until it accepts TCP. */
  readonly kafkaReadyMs: number;
  /** `npm run build`; 0 when E2E_SKIP_BUILD=1. */
  readonly buildMs: number;
  /** From spawning the API until /readyz answers 200. */
  readonly apiReadyMs: number;
  /** From spawning daprd until /v1.0/healthz/outbound answers 204. */
  readonly daprdReadyMs: number;
  /** From then until daprd's subscription consumer group has its partition of todo-events. */
  readonly subscriptionReadyMs: number;
  readonly totalMs: number;
}

/** Optional changes to the stack, for benchmarks; the end-to-end suites use the defaults. */
export interface StackOptions {
  /** Extra environment for the API (overrides the defaults below, e.g. RATE_LIMIT_PER_MINUTE). */
  readonly apiEnv?: Readonly<Record<string, string>>;
  /** The API's database; default a fresh SQLite file in the work directory. */
  readonly databaseUrl?: string;
  /** Node flags for the API process, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]. */
  readonly apiNodeArgs?: readonly string[];
  /** Turns bulkSubscribe off in the staged subscription: one delivery request per event (comparisons). */
  readonly singleDeliveries?: boolean;
  /**
   * A three-broker KRaft cluster instead of the single broker, `todo-events` at replication
   * factor 3 and min.insync.replicas=2 (test/stack/kafka-cluster.ts); `stack.kafkaCluster` drives it.
   */
  readonly kafkaCluster?: boolean;
}

/** A further API process with its own daprd, sharing the stack's database, broker and tokens (scale-out). */
export interface StackInstance {
  /** http://127.0.0.1:<its API port> */
  readonly origin: string;
  /** SIGTERM to the API; resolves with its exit code and how long it took. */
  stopApi(): Promise<{ code: number | null; ms: number }>;
  /** SIGKILL to the API. */
  killApi(): Promise<void>;
}

export interface Stack {
  /** http://127.0.0.1:<api port> */
  readonly origin: string;
  /** "127.0.0.1:<kafka port>" */
  readonly brokers: string;
  readonly ports: StackPorts;
  /** What the API sends to daprd and daprd requires (`dapr-api-token`). */
  readonly daprApiToken: string;
  /** What daprd sends to the API and the API requires on delivery routes. */
  readonly appApiToken: string;
  /** Temporary directory with the logs, the database and the staged Dapr resources. */
  readonly workDir: string;
  readonly timings: StartupTimings;
  /** Pid of the API's node process (e.g. to read its RSS from /proc). */
  readonly apiPid: number;
  /** Pid of the running daprd (undefined while it is stopped), e.g. to read its CPU time. */
  readonly daprdPid: number | undefined;
  /** Pid of the Kafka broker's JVM. */
  readonly kafkaPid: number | undefined;
  /** The three-broker cluster, when started with `kafkaCluster` (then stopKafka/startKafka do not apply). */
  readonly kafkaCluster: KafkaCluster | undefined;
  /** SIGTERM to daprd; resolves when it has exited. */
  stopDaprd(): Promise<void>;
  /**
   * Starts daprd again on the same ports; resolves when it publishes and its subscription consumes
   * again. Returns the ms it took.
   */
  startDaprd(): Promise<number>;
  /** SIGKILL to daprd (a crash); resolves when it is gone. */
  killDaprd(): Promise<void>;
  /** SIGKILL to the API (a crash mid-request, mid-relay); resolves when it is gone. */
  killApi(): Promise<void>;
  /** SIGTERM to the API (a rolling update); resolves with its exit and how long it took to exit. */
  stopApi(): Promise<{ code: number | null; ms: number }>;
  /** Starts the API again on the same port and database; resolves when /readyz answers 200. Returns the ms it took. */
  startApi(): Promise<number>;
  /** SIGTERM to the broker; its data is kept for startKafka(). */
  stopKafka(): Promise<void>;
  /** Starts the broker again on the same ports with its data; resolves when it accepts TCP. Returns the ms it took. */
  startKafka(): Promise<number>;
  /**
   * Starts one more API + daprd pair on the same database (needs `databaseUrl`: PostgreSQL),
   * the same broker and tokens, on fresh ports; resolves when both are ready and the new
   * sidecar's subscription is live.
   */
  addInstance(): Promise<StackInstance>;
  /** The last lines of every log, for failure messages. */
  logTails(lines?: number): string;
  /** Keep the work directory (with the logs) after stop(), e.g. because a test failed. */
  keepWorkDir(): void;
  /** Stops everything; throws (with the log tails) when something would not stop. */
  stop(): Promise<void>;
}

const log = (message: string): void => {
  process.stderr.write(`[e2e stack] ${message}\n`);
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started = performance.now();
  const since = (from: number): number => Math.round(performance.now() - from);
  const workDir = mkdtempSync(join(tmpdir(), "todo-e2e-"));
  const processes: { kafka?: ManagedProcess; api?: ManagedProcess; daprd?: ManagedProcess } = {};
  let cluster: KafkaCluster | undefined;
  /** Scale-out pairs, stopped before the first instance. */
  const extra: { api: ManagedProcess; daprd?: ManagedProcess }[] = [];
  let keep = process.env.E2E_KEEP_WORKDIR === "1";
  let stopped = false;

  const logTails = (lines = 40): string =>
    [...(["api", "daprd", "kafka"] as const).map((name) => processes[name]), ...(cluster?.processes ?? [])]
      .filter((child): child is ManagedProcess => child !== undefined)
      .map((child) => `----- ${child.name} (${child.logFile}), last ${lines} lines -----\n${child.tail(lines)}`)
      .join("\n");

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const failures: string[] = [];
    // Sidecar first (it delivers to the API), then the API (its relay publishes through the sidecar), then Kafka.
    // [process, grace period, whether a non-zero exit is expected]
    const order: [ManagedProcess | undefined, number, boolean][] = [
      ...extra.flatMap((pair): [ManagedProcess | undefined, number, boolean][] => [
        // A sidecar whose app a test already stopped exits 1 on SIGTERM; that is not a teardown failure.
        [pair.daprd, 15_000, pair.api.exit !== undefined],
        [pair.api.exit === undefined ? pair.api : undefined, 15_000, false],
      ]),
      [processes.daprd, 15_000, false],
      [processes.api, 15_000, false],
      [processes.kafka, 30_000, false],
    ];
    for (const [child, graceMs, anyExitCode] of order) {
      if (child === undefined) continue;
      try {
        const exit = await child.stop(graceMs);
        // daprd and the API exit 0 on SIGTERM, the Kafka JVM 143.
        if (!anyExitCode && exit.code !== 0 && exit.code !== 143) {
          failures.push(`${child.name} exited with ${JSON.stringify(exit)}`);
        }
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (cluster !== undefined) failures.push(...(await cluster.stopAll()));
    if (failures.length > 0) {
      keep = true;
      throw new Error(`e2e stack teardown: ${failures.join("; ")}\n${logTails()}\n(logs kept in ${workDir})`);
    }
    if (keep) log(`logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };

  try {
    log(`work dir ${workDir}`);
    const tokens = { dapr: randomBytes(24).toString("hex"), app: randomBytes(24).toString("hex") };

    // 1. The real parts (cached after the first run; a first daprd build streams its progress).
    let phase = performance.now();
    const [daprdBinary] = await Promise.all([
      runScript("install-daprd.sh", [], "install-daprd", DAPRD_INSTALL_TIMEOUT_MS),
      runScript("install-kafka.sh", [], "install-kafka", KAFKA_INSTALL_TIMEOUT_MS),
    ]);
    const installMs = since(phase);

    // 2. Kafka first: a pub/sub component that cannot reach its broker makes daprd exit at start.
    //    The API is built meanwhile.
    phase = performance.now();
    let kafkaControllerPort = 0;
    /** `keepData`: a restart of the same broker (fault tests) must not wipe the topic. */
    const launchKafka = (brokerPort: number, controllerPort: number, keepData: boolean): ManagedProcess => {
      const kafka = ManagedProcess.start({
        name: "kafka",
        command: "bash",
        args: [join(INFRA, "run-kafka.sh"), String(brokerPort), join(workDir, "kafka")],
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          KAFKA_CONTROLLER_PORT: String(controllerPort),
          ...(keepData ? { KAFKA_KEEP_DATA: "1" } : {}),
        },
        logFile: join(workDir, "kafka.log"),
      });
      processes.kafka = kafka;
      return kafka;
    };
    const startKafka = async (): Promise<number> => {
      // A port that was free a moment ago can be taken in between (e.g. as the local port of an
      // outgoing connection): Kafka then exits with "Address already in use". Try fresh ports.
      for (let attempt = 1; ; attempt++) {
        const [brokerPort, controllerPort] = await freePorts(2);
        const kafka = launchKafka(brokerPort, controllerPort, false);
        kafkaControllerPort = controllerPort;
        try {
          await waitUntil(() => acceptsTcp(brokerPort), {
            what: `Kafka to accept TCP on 127.0.0.1:${brokerPort}`,
            timeoutMs: 2 * MINUTE,
            intervalMs: 200,
            process: kafka,
          });
          return brokerPort;
        } catch (error) {
          if (attempt >= 3 || !kafka.tail(200).includes("Address already in use")) throw error;
          log(`Kafka could not bind ${brokerPort}/${controllerPort} (attempt ${attempt}); retrying on other ports`);
          await kafka.stop(5000);
        }
      }
    };
    const startCluster = async (): Promise<number> => {
      const [b1, b2, b3, c1, c2, c3] = await freePorts(6);
      cluster = await startKafkaCluster(workDir, { broker: [b1, b2, b3], controller: [c1, c2, c3] }, "todo-events");
      return b1;
    };
    const kafkaStarted = (options.kafkaCluster === true ? startCluster() : startKafka()).then((port) => ({
      port,
      readyMs: since(phase),
    }));
    const build = buildApi();
    const [kafkaStart, buildMs] = await Promise.all([kafkaStarted, build]);
    const kafkaPort = kafkaStart.port;
    const kafkaReadyMs = kafkaStart.readyMs;
    const brokers = cluster?.brokers ?? `127.0.0.1:${kafkaPort}`;
    if (!existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: run \`npm run build\` first`);

    // 3. Dapr resources: the project's `kafka` profile with the brokers rewritten.
    const resourcesDir = join(workDir, "resources");
    await runToCompletion(
      "bash",
      [join(REPO_ROOT, "scripts/dapr/stage-components.sh"), "kafka", resourcesDir, brokers],
      {
        label: "stage-components",
        timeoutMs: MINUTE,
        cwd: REPO_ROOT,
      },
    );
    if (options.singleDeliveries === true) disableBulkSubscribe(join(resourcesDir, SUBSCRIPTION_FILE));

    const [api, daprHttp, daprGrpc, daprInternalGrpc, daprMetrics] = await freePorts(5);
    const ports: StackPorts = { kafka: kafkaPort, api, daprHttp, daprGrpc, daprInternalGrpc, daprMetrics };
    const origin = `http://127.0.0.1:${api}`;

    // 4. The API, as it runs in production: a separate process configured by its environment.
    phase = performance.now();
    const apiDataDir = join(workDir, "api");
    mkdirSync(apiDataDir);
    const launchApiProcess = (name: string, apiPort: number, daprHttpPort: number): ManagedProcess =>
      ManagedProcess.start({
        name,
        command: process.execPath,
        // Flags given by a benchmark come last, so they win over the defaults.
        args: [...API_NODE_FLAGS, ...(options.apiNodeArgs ?? []), API_ENTRY],
        cwd: REPO_ROOT,
        // Only what the API needs: nothing from the developer's shell (e.g. a JWT_PUBLIC_KEY) leaks in.
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: "development",
          PORT: String(apiPort),
          DATABASE_URL: options.databaseUrl ?? `sqlite:${join(apiDataDir, "todos.db")}`,
          JWT_SECRET: TEST_JWT_SECRET,
          DAPR_HOST: "127.0.0.1",
          DAPR_HTTP_PORT: String(daprHttpPort),
          DAPR_API_TOKEN: tokens.dapr,
          APP_API_TOKEN: tokens.app,
          PUBLISH_TIMEOUT_MS: "3000",
          OUTBOX_POLL_INTERVAL_MS: "100",
          OUTBOX_RETRY_BASE_MS: "100",
          OUTBOX_RETRY_MAX_MS: "2000",
          LOG_LEVEL: "info",
          ...options.apiEnv,
        },
        logFile: join(workDir, `${name}.log`),
      });
    const launchApi = (): ManagedProcess => (processes.api = launchApiProcess("api", api, daprHttp));
    const awaitReady = (apiOrigin: string, apiProcess: ManagedProcess): Promise<void> =>
      waitUntil(async () => (await httpStatus(`${apiOrigin}/readyz`)) === 200, {
        what: `the API's ${apiOrigin}/readyz to answer 200`,
        timeoutMs: MINUTE,
        process: apiProcess,
      });
    const awaitApiReady = (apiProcess: ManagedProcess): Promise<void> => awaitReady(origin, apiProcess);
    const apiProcess = launchApi();
    await awaitApiReady(apiProcess);
    const apiReadyMs = since(phase);

    // 5. The sidecar, pointed at the API (app port) and at the broker.
    const launchDaprdProcess = async (
      name: string,
      sidecarPorts: readonly [http: number, grpc: number, internalGrpc: number, metrics: number],
      appPort: number,
    ): Promise<ManagedProcess> => {
      const daprd = ManagedProcess.start({
        name,
        command: "bash",
        args: [join(INFRA, "run-daprd.sh"), resourcesDir, ...sidecarPorts.map(String), String(appPort)],
        cwd: REPO_ROOT,
        // With these daprd requires dapr-api-token on its API and sends APP_API_TOKEN to the app.
        env: { ...process.env, DAPRD: daprdBinary, DAPR_API_TOKEN: tokens.dapr, APP_API_TOKEN: tokens.app },
        logFile: join(workDir, `${name}.log`),
      });
      await waitUntil(
        async () =>
          (await httpStatus(`http://127.0.0.1:${sidecarPorts[0]}/v1.0/healthz/outbound`, {
            "dapr-api-token": tokens.dapr,
          })) === 204,
        { what: `${name}'s /v1.0/healthz/outbound to answer 204`, timeoutMs: MINUTE, process: daprd },
      );
      return daprd;
    };
    const launchDaprd = async (): Promise<number> => {
      const from = performance.now();
      processes.daprd = await launchDaprdProcess("daprd", [daprHttp, daprGrpc, daprInternalGrpc, daprMetrics], api);
      return since(from);
    };
    /**
     * daprd's declarative subscription (consumer group "todo-api-<uuid>", initial offset newest)
     * settles about a second after daprd reports ready; events published before that never reach
     * the app. Wait for it, so tests of the way back start from a live subscription.
     */
    const subscriberGroups = new Set<string>();
    const awaitSubscription = async (): Promise<number> => {
      const from = performance.now();
      const group = await waitForConsumerGroup(brokers, {
        groupIdPrefix: "todo-api-",
        topic: "todo-events",
        timeoutMs: MINUTE,
        excluding: subscriberGroups,
      });
      subscriberGroups.add(group);
      return since(from);
    };
    const daprdReadyMs = await launchDaprd();
    const subscriptionReadyMs = await awaitSubscription();
    const totalMs = since(started);
    const timings: StartupTimings = {
      installMs,
      kafkaReadyMs,
      buildMs,
      apiReadyMs,
      daprdReadyMs,
      subscriptionReadyMs,
      totalMs,
    };
    log(`ready in ${totalMs} ms ${JSON.stringify(timings)}; API ${origin}, daprd :${daprHttp}, Kafka ${brokers}`);

    return {
      origin,
      brokers,
      ports,
      daprApiToken: tokens.dapr,
      appApiToken: tokens.app,
      workDir,
      timings,
      // The current API process: it changes when a fault test restarts the API.
      get apiPid() {
        return (processes.api ?? apiProcess).pid;
      },
      get daprdPid() {
        return processes.daprd?.exit === undefined ? processes.daprd?.pid : undefined;
      },
      get kafkaPid() {
        return processes.kafka?.exit === undefined ? processes.kafka?.pid : undefined;
      },
      get kafkaCluster() {
        return cluster;
      },
      async stopDaprd() {
        const daprd = processes.daprd;
        if (daprd === undefined || daprd.exit !== undefined) throw new Error("daprd is not running");
        const exit = await daprd.stop(15_000);
        if (exit.code !== 0) throw new Error(`daprd exited with ${JSON.stringify(exit)} on SIGTERM:\n${daprd.tail()}`);
      },
      async startDaprd() {
        if (processes.daprd !== undefined && processes.daprd.exit === undefined) {
          throw new Error("daprd is already running");
        }
        const readyMs = await launchDaprd();
        return readyMs + (await awaitSubscription());
      },
      async killDaprd() {
        await processes.daprd?.kill();
      },
      async killApi() {
        await processes.api?.kill();
      },
      async stopApi() {
        const api = processes.api;
        if (api === undefined || api.exit !== undefined) throw new Error("the API is not running");
        const from = performance.now();
        const exit = await api.stop(30_000);
        return { code: exit.code, ms: since(from) };
      },
      async startApi() {
        if (processes.api !== undefined && processes.api.exit === undefined)
          throw new Error("the API is already running");
        const from = performance.now();
        await awaitApiReady(launchApi());
        return since(from);
      },
      async stopKafka() {
        const kafka = processes.kafka;
        if (kafka === undefined || kafka.exit !== undefined) throw new Error("Kafka is not running");
        await kafka.stop(30_000);
      },
      async startKafka() {
        if (processes.kafka !== undefined && processes.kafka.exit === undefined)
          throw new Error("Kafka is already running");
        const from = performance.now();
        const kafka = launchKafka(kafkaPort, kafkaControllerPort, true);
        await waitUntil(() => acceptsTcp(kafkaPort), {
          what: `Kafka to accept TCP on ${brokers} again`,
          timeoutMs: 2 * MINUTE,
          intervalMs: 200,
          process: kafka,
        });
        return since(from);
      },
      async addInstance() {
        if (options.databaseUrl === undefined)
          throw new Error("addInstance() needs a shared database: start the stack with databaseUrl");
        const index = extra.length + 2;
        const [apiPort, http, grpc, internalGrpc, metrics] = await freePorts(5);
        const apiOrigin = `http://127.0.0.1:${apiPort}`;
        const pair: { api: ManagedProcess; daprd?: ManagedProcess } = {
          api: launchApiProcess(`api${index}`, apiPort, http),
        };
        extra.push(pair);
        await awaitReady(apiOrigin, pair.api);
        pair.daprd = await launchDaprdProcess(`daprd${index}`, [http, grpc, internalGrpc, metrics], apiPort);
        await awaitSubscription();
        return {
          origin: apiOrigin,
          async stopApi() {
            const from = performance.now();
            const exit = await pair.api.stop(30_000);
            return { code: exit.code, ms: since(from) };
          },
          async killApi() {
            await pair.api.kill();
          },
        };
      },
      logTails,
      keepWorkDir() {
        keep = true;
      },
      stop,
    };
  } catch (error) {
    keep = true;
    const tails = logTails();
    try {
      await stop();
    } catch (stopError) {
      log((stopError as Error).message);
    }
    throw new Error(`e2e stack did not start: ${(error as Error).message}\n${tails}\n(logs kept in ${workDir})`);
  }
}

/** Runs a scripts/infra script; returns the last line it printed (the path it reports). */
async function runScript(script: string, args: string[], label: string, timeoutMs: number): Promise<string> {
  const stdout = await runToCompletion("bash", [join(INFRA, script), ...args], { label, timeoutMs, cwd: REPO_ROOT });
  const lines = stdout.trim().split("\n");
  const last = lines[lines.length - 1]?.trim() ?? "";
  if (last === "" || !existsSync(last)) {
    throw new Error(`${script} printed no usable path (stdout: ${JSON.stringify(stdout)})`);
  }
  return last;
}

/** `npm run build` unless E2E_SKIP_BUILD=1 says it was just built. Returns the ms it took. */
async function buildApi(): Promise<number> {
  if (process.env.E2E_SKIP_BUILD === "1") return 0;
  const from = performance.now();
  log("building the API (npm run build; set E2E_SKIP_BUILD=1 to skip)");
  await runToCompletion("npm", ["run", "--silent", "build"], { label: "build", timeoutMs: 5 * MINUTE, cwd: REPO_ROOT });
  return Math.round(performance.now() - from);
}

/** Distinct free loopback ports: all are bound at once, then released. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolvePort, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolvePort(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((done) => server.close(() => done()))));
  return ports;
}

const SUBSCRIPTION_FILE = "todo-events-subscription.yaml";

/** Removes the `bulkSubscribe` block (and its comment) from the staged declarative subscription. */
function disableBulkSubscribe(file: string): void {
  const text = readFileSync(file, "utf8");
  const block = /(?:^ {2}#.*\n)*^ {2}bulkSubscribe:\n(?:^ {4}.*\n)+/m;
  if (!block.test(text)) throw new Error(`${file} has no bulkSubscribe block to remove`);
  writeFileSync(file, text.replace(block, ""));
}
