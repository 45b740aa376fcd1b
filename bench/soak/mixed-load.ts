/**
 * Drives the API with the soak's mutation cycle through autocannon: closed loop (as fast as the
 * connections go, to find the maximum) or at a fixed overall rate (the steady phase).
 */
import autocannon from "autocannon";
import { mutationCycle, type Ledger, type SoakUser } from "./workload";

export interface MixedLoadOptions {
  readonly origin: string;
  readonly users: readonly SoakUser[];
  readonly ledger: Ledger;
  readonly connections: number;
  readonly durationSec: number;
  /** Requests per second across all connections; undefined for a closed loop. */
  readonly overallRate?: number;
}

export interface MixedLoadResult {
  readonly connections: number;
  readonly durationSec: number;
  /** Answers received (acknowledged or failed). */
  readonly responses: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed answers, socket errors and timeouts during this run. */
  readonly errors: number;
}

/** A started run: `done` resolves when it ends; the ledger fills while it runs. */
export interface RunningLoad {
  readonly done: Promise<MixedLoadResult>;
  /** Ends the run early (e.g. when the caller fails). */
  stop(): void;
}

export function startMixedLoad(options: MixedLoadOptions): RunningLoad {
  const { ledger } = options;
  const responsesBefore = ledger.responses;
  const errorsBefore = ledger.errors;
  let instance: autocannon.Instance | undefined;
  const done = new Promise<MixedLoadResult>((resolve, reject) => {
    instance = autocannon(
      {
        url: options.origin,
        connections: options.connections,
        duration: options.durationSec,
        // A synchronous publish waits for daprd up to PUBLISH_TIMEOUT_MS (3 s in the stack).
        timeout: 10,
        ...(options.overallRate === undefined ? {} : { overallRate: options.overallRate }),
        requests: mutationCycle(options.users, ledger),
      },
      (error, result) => {
        if (error !== null && error !== undefined) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const responses = ledger.responses - responsesBefore;
        resolve({
          connections: options.connections,
          durationSec: result.duration,
          responses,
          rps: result.duration > 0 ? responses / result.duration : 0,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: ledger.errors - errorsBefore,
        });
      },
    );
    instance.on("reqError", (error: Error) => {
      ledger.transportErrors += 1;
      ledger.firstError ??= `transport: ${error.message}`;
    });
  });
  return {
    done,
    stop: () => instance?.stop(),
  };
}
