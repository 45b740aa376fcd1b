/**
 * One reading of the API process: VmRSS from /proc, the heap and handle figures
 * and event counters the API exports at GET /metrics (prom-client defaults plus
 * the todo_* counters of src/metrics/metrics.ts), and the outbox backlog and the
 * log's size from GET /readyz.
 */
import { vmRssKb } from "../load";

export interface ApiReading {
  /** VmRSS of the API process, from /proc/<pid>/status. */
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
  readonly activeHandles: number;
  readonly eventLoopLagP99Ms: number;
  readonly outboxPending: number;
  readonly outboxOldestAgeSec: number;
  /** Rows in the event log, whatever their status: what retention keeps bounded. */
  readonly logRows: number;
  /** Summed over all labels, since the API started. */
  readonly eventsPublished: number;
  readonly eventsPublishFailed: number;
}

const MB = 2 ** 20;
const SCRAPE_ATTEMPTS = 3;

/** `onRetry` hears of a failed scrape that is tried again. */
export async function readApi(
  origin: string,
  pid: number,
  onRetry: (reason: string) => void = () => undefined,
): Promise<ApiReading> {
  const [metricsText, readiness] = await Promise.all([
    fetchText(`${origin}/metrics`, onRetry),
    fetchText(`${origin}/readyz`, onRetry),
  ]);
  const metrics = parsePrometheusText(metricsText);
  const outbox = (JSON.parse(readiness) as Readiness).checks?.outbox;
  if (outbox === undefined) throw new Error(`/readyz reports no outbox backlog: ${readiness}`);
  const rssKb = vmRssKb(pid);
  if (rssKb === undefined) throw new Error(`no VmRSS for the API's pid ${pid}: has it exited?`);
  const value = (name: string): number => {
    const found = metrics.get(name);
    if (found === undefined) throw new Error(`/metrics has no ${name}`);
    return found;
  };
  return {
    rssMb: rssKb / 1024,
    heapUsedMb: value("nodejs_heap_size_used_bytes") / MB,
    heapTotalMb: value("nodejs_heap_size_total_bytes") / MB,
    externalMb: value("nodejs_external_memory_bytes") / MB,
    activeHandles: value("nodejs_active_handles_total"),
    eventLoopLagP99Ms: value("nodejs_eventloop_lag_p99_seconds") * 1000,
    outboxPending: outbox.pending,
    outboxOldestAgeSec: (outbox.oldestPendingAgeMs ?? 0) / 1000,
    logRows: outbox.span,
    // A counter has no series until its first increment.
    eventsPublished: metrics.get("todo_events_published_total") ?? 0,
    eventsPublishFailed: metrics.get("todo_events_publish_failed_total") ?? 0,
  };
}

/**
 * The outbox figures come from /readyz, where one query gives them all. In /metrics,
 * todo_outbox_oldest_pending_age_seconds is set by the collect hook of todo_outbox_pending_events,
 * but prom-client reads all metrics at once, so the age it serves is the previous scrape's.
 */
interface Readiness {
  readonly checks?: {
    readonly outbox?: { readonly pending: number; readonly oldestPendingAgeMs: number | null; readonly span: number };
  };
}

/**
 * The body of a 200 answer. A failed attempt is tried again after a moment: one lost scrape must
 * not end a ten-minute soak, but an API that stopped answering does.
 */
async function fetchText(url: string, onRetry: (reason: string) => void): Promise<string> {
  const failures: string[] = [];
  for (let attempt = 1; attempt <= SCRAPE_ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return await response.text();
      failures.push(`HTTP ${response.status}`);
    } catch (error) {
      failures.push(describeFetchError(error));
    }
    if (attempt < SCRAPE_ATTEMPTS) {
      onRetry(`GET ${url}: ${failures[failures.length - 1]}; trying again`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`GET ${url} failed ${SCRAPE_ATTEMPTS} times: ${failures.join("; ")}`);
}

/** undici's "fetch failed" hides the reason in `cause`. */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause =
    error.cause instanceof Error
      ? ` (${(error.cause as NodeJS.ErrnoException).code ?? ""} ${error.cause.message})`
      : "";
  return `${error.message}${cause}`;
}

/** Metric name → value, summed over the series of a name (its label sets). Histograms keep their _sum/_count/_bucket names. */
export function parsePrometheusText(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[3]);
    if (Number.isNaN(value)) continue;
    values.set(match[1], (values.get(match[1]) ?? 0) + value);
  }
  return values;
}
