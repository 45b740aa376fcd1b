/**
 * One load run with autocannon on loopback: throughput, latency percentiles,
 * and errors counted from the responses themselves (autocannon alone counts
 * only the HTTP status; a GraphQL error arrives with status 200).
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/** What one connection sends; chosen once per connection (e.g. one user per connection). */
export interface ConnectionRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface LoadOptions {
  /** e.g. http://127.0.0.1:4000 */
  readonly origin: string;
  readonly method: "GET" | "POST";
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly durationSec: number;
  /** Stop after this many requests instead of after `durationSec`. */
  readonly amount?: number;
  /** Called once per connection, with a running connection index. */
  readonly requestFor: (connection: number) => ConnectionRequest;
  /** True when a 2xx body is still a failure (e.g. it carries GraphQL `errors`). */
  readonly isErrorBody?: (body: string) => boolean;
  /** Pid whose VmRSS is sampled during the run. */
  readonly rssPid?: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly durationSec: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers, socket errors, timeouts, and 2xx answers whose body is an error. */
  readonly errors: number;
  /** Peak VmRSS of `rssPid` during the run, in MB (undefined without a pid). */
  readonly rssMb?: number;
  /** The first error body seen, for the report's footnotes. */
  readonly sampleError?: string;
}

interface ConnectionContext {
  request?: ConnectionRequest;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let nextConnection = 0;
  let bodyErrors = 0;
  let sampleError: string | undefined;
  const isErrorBody = options.isErrorBody ?? (() => false);
  const context = (raw: object): ConnectionContext => raw;

  let peakRssKb = 0;
  const sampleRss = (): void => {
    if (options.rssPid === undefined) return;
    const kb = vmRssKb(options.rssPid);
    if (kb !== undefined && kb > peakRssKb) peakRssKb = kb;
  };
  sampleRss();
  const sampler = setInterval(sampleRss, 200);

  try {
    const startedAt = performance.now();
    let lastAnswerAt = startedAt;
    const result = await autocannon({
      url: options.origin,
      connections: options.connections,
      ...(options.amount === undefined ? { duration: options.durationSec } : { amount: options.amount }),
      timeout: 10,
      requests: [
        {
          method: options.method,
          setupRequest: (request, raw) => {
            const ctx = context(raw);
            ctx.request ??= options.requestFor(nextConnection++);
            return {
              ...request,
              method: options.method,
              path: ctx.request.path,
              headers: { ...ctx.request.headers },
              ...(ctx.request.body === undefined ? {} : { body: ctx.request.body }),
            };
          },
          onResponse: (status, body) => {
            lastAnswerAt = performance.now();
            if (status >= 200 && status < 300 && isErrorBody(body)) {
              bodyErrors += 1;
              sampleError ??= body.slice(0, 300);
            } else if (status >= 300) {
              sampleError ??= `HTTP ${status}: ${body.slice(0, 300)}`;
            }
          },
        },
      ],
    });
    // Until the last answer: autocannon's own duration is in whole seconds, and a run of a fixed
    // request count only resolves at its next one-second tick.
    const durationSec = (lastAnswerAt - startedAt) / 1000;
    sampleRss();
    const requests = result.requests.total;
    return {
      requests,
      durationSec,
      rps: durationSec > 0 ? requests / durationSec : 0,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      // autocannon counts timeouts among `errors` already.
      errors: result.non2xx + result.errors + bodyErrors,
      ...(options.rssPid === undefined ? {} : { rssMb: peakRssKb / 1024 }),
      ...(sampleError === undefined ? {} : { sampleError }),
    };
  } finally {
    clearInterval(sampler);
  }
}

/** VmRSS of a live process in kB, from /proc. */
export function vmRssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** A GraphQL answer with a top-level `errors` member. */
export function hasGraphqlErrors(body: string): boolean {
  return body.includes('"errors"');
}
