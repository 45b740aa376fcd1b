/**
 * The Python example consumer (examples/python-consumer) started the way its README starts it,
 * with `run.sh`: its FastAPI app and its own daprd, here on free ports against the stack's
 * broker, with its state in a file that outlives a restart.
 */
import { join, resolve } from "node:path";
import { waitForConsumerGroup } from "../stack/kafka";
import { httpStatus, ManagedProcess, runToCompletion, waitUntil, type ExitInfo } from "../stack/processes";
import { freePorts } from "../stack/stack";

const EXAMPLE_DIR = resolve(__dirname, "../../examples/python-consumer");
/** The consumer group of the example's component. */
export const CONSUMER_GROUP = "todo-events-consumer";
/** A fresh machine installs the virtualenv from PyPI first. */
export const CONSUMER_INSTALL_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 90_000;

export interface ConsumedUser {
  readonly user_id: string;
  readonly events: number;
  readonly last_sequence: number;
  readonly missing: number[];
  readonly duplicates: number;
  readonly late: number;
}

export interface ConsumerSummary {
  readonly users: Readonly<Record<string, ConsumedUser>>;
  readonly rejected: number;
}

export interface ConsumedEvent {
  readonly event_id: string;
  readonly sequence: number;
  readonly action: string;
}

export interface ExampleConsumer {
  /** Starts run.sh; resolves when the consumer's group holds its partition of todo-events. */
  start(): Promise<void>;
  /** SIGTERM, as Ctrl-C or a rolling update would; resolves with run.sh's exit. */
  stop(): Promise<ExitInfo>;
  summary(): Promise<ConsumerSummary>;
  /** The user's events in the order the consumer processed them. */
  eventsOf(userId: string): Promise<ConsumedEvent[]>;
  /** What run.sh, the app and its daprd printed, across restarts. */
  output(): string;
}

/** Builds the consumer's virtualenv (the slow part of a first start) under its own timeout. */
export async function installExampleConsumer(): Promise<void> {
  await runToCompletion("bash", [join(EXAMPLE_DIR, "venv.sh")], {
    label: "python-consumer venv",
    timeoutMs: CONSUMER_INSTALL_TIMEOUT_MS,
    cwd: EXAMPLE_DIR,
  });
}

export async function exampleConsumer(options: { brokers: string; workDir: string }): Promise<ExampleConsumer> {
  const [appPort, daprHttp, daprGrpc, daprInternal, daprMetrics] = await freePorts(5);
  const origin = `http://127.0.0.1:${appPort}`;
  const logFile = join(options.workDir, "python-consumer.log");
  let running: ManagedProcess | undefined;

  const getJson = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${origin}${path}`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return (await response.json()) as T;
  };

  return {
    async start() {
      if (running !== undefined && running.exit === undefined) throw new Error("the consumer is already running");
      running = ManagedProcess.start({
        name: "python-consumer",
        command: "bash",
        args: [join(EXAMPLE_DIR, "run.sh")],
        cwd: EXAMPLE_DIR,
        env: {
          ...process.env,
          KAFKA_BROKERS: options.brokers,
          APP_PORT: String(appPort),
          DAPR_HTTP_PORT: String(daprHttp),
          DAPR_GRPC_PORT: String(daprGrpc),
          DAPR_INTERNAL_GRPC_PORT: String(daprInternal),
          DAPR_METRICS_PORT: String(daprMetrics),
          CONSUMER_STATE: join(options.workDir, "consumer-state", "consumer.db"),
          DAPR_LOG_LEVEL: "info",
        },
        logFile,
      });
      const child = running;
      await waitUntil(async () => (await httpStatus(`${origin}/healthz`)) === 200, {
        what: "the consumer's /healthz to answer 200",
        timeoutMs: START_TIMEOUT_MS,
        process: child,
      });
      await waitForConsumerGroup(options.brokers, {
        groupIdPrefix: CONSUMER_GROUP,
        topic: "todo-events",
        timeoutMs: START_TIMEOUT_MS,
      });
    },
    async stop() {
      if (running === undefined || running.exit !== undefined) throw new Error("the consumer is not running");
      return running.stop(30_000);
    },
    summary: () => getJson<ConsumerSummary>("/summary"),
    eventsOf: (userId) => getJson<ConsumedEvent[]>(`/users/${encodeURIComponent(userId)}/events`),
    output: () => running?.tail(400) ?? "",
  };
}
