/**
 * Publishes todo events through the Dapr sidecar's HTTP API with one
 * `DaprClient` for the whole process (the seed opened one per call).
 */
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import type { Logger } from "../../logging/logger";
import { parseJsonOrUndefined } from "../../shared/json";
import { bulkPublishEntries, failedBulkEntries } from "./dapr-bulk-publish";
import type { EventPublisher, PublishItem, PublishOptions, PublishOutcome } from "../event-publisher";
import { publishMetadataFor, type TodoEventPayload } from "../todo-event";

export interface DaprEventPublisherOptions {
  readonly daprHost: string;
  readonly daprHttpPort: number;
  readonly daprApiToken?: string;
  readonly pubsubName: string;
  readonly topic: string;
  readonly publishTimeoutMs: number;
  readonly logger: Logger;
}

export class DaprEventPublisher implements EventPublisher {
  readonly destination: { readonly pubsubName: string; readonly topic: string };
  private readonly client: DaprClient;
  private readonly sidecarHttp: SidecarHttp;

  constructor(private readonly options: DaprEventPublisherOptions) {
    this.destination = { pubsubName: options.pubsubName, topic: options.topic };
    const sdkLogger = options.logger.child({ component: "dapr-sdk" });
    this.client = new DaprClient({
      daprHost: options.daprHost,
      daprPort: String(options.daprHttpPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      isKeepAlive: true,
      ...(options.daprApiToken === undefined ? {} : { daprApiToken: options.daprApiToken }),
      // The SDK's debug level prints request headers, including dapr-api-token.
      logger: {
        level: LogLevel.Warn,
        service: {
          error: (message: unknown) => sdkLogger.warn(String(message)),
          warn: (message: unknown) => sdkLogger.warn(String(message)),
          info: () => undefined,
          verbose: () => undefined,
          debug: () => undefined,
        },
      },
    });
    // Without this the SDK's first call polls the sidecar for up to 60 s. We
    // bound every publish ourselves and let readiness report the sidecar, so
    // a missing sidecar must fail the call at once instead.
    this.client.daprClient.setIsInitialized(true);
    this.sidecarHttp = sidecarHttpOf(this.client);
  }

  async publish(event: TodoEventPayload, options: PublishOptions = {}): Promise<PublishOutcome> {
    const attempt = this.client.pubsub.publish(
      this.options.pubsubName,
      this.options.topic,
      { ...event },
      {
        contentType: "application/json",
        metadata: publishMetadataFor(event, options.traceparent),
      },
    );
    const outcome = await withTimeout(attempt, this.options.publishTimeoutMs);
    if (outcome === TIMED_OUT) return this.timedOut();
    if (outcome.error === undefined) return { ok: true };
    return classifyPublishError(outcome.error);
  }

  /**
   * One bulk publish request for all items: the relay's drain then costs one round trip per
   * batch instead of one per event. A partial failure fails only the entries daprd names.
   */
  async publishBatch(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    if (items.length === 0) return [];
    const [only] = items;
    if (items.length === 1 && only !== undefined) return [await this.publish(only.event, only.options)];
    const attempt = this.sidecarHttp
      .executeWithApiVersion("v1.0-alpha1", `/publish/bulk/${this.options.pubsubName}/${this.options.topic}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: bulkPublishEntries(items),
      })
      .then(
        () => ({ error: undefined }),
        (error: unknown) => ({ error }),
      );
    const outcome = await withTimeout(attempt, this.options.publishTimeoutMs);
    if (outcome === TIMED_OUT) return items.map(() => this.timedOut());
    if (outcome.error === undefined) return items.map(() => ({ ok: true }));
    const failed = failedBulkEntries(errorBodyOf(outcome.error));
    if (failed === undefined) {
      const whole = classifyPublishError(outcome.error);
      return items.map(() => whole);
    }
    return items.map((_item, index): PublishOutcome => {
      const error = failed.get(String(index));
      return error === undefined ? { ok: true } : { ok: false, reason: "rejected", detail: truncate(error) };
    });
  }

  async close(): Promise<void> {
    await this.client.stop();
  }

  private timedOut(): PublishOutcome & { ok: false } {
    return {
      ok: false,
      reason: "timeout",
      detail: `no answer from the Dapr sidecar within ${this.options.publishTimeoutMs} ms`,
    };
  }
}

/** The part of the SDK's HTTP client we use for the bulk endpoint, which the SDK wraps wrongly. */
interface SidecarHttp {
  executeWithApiVersion(apiVersion: string, url: string, params: object): Promise<unknown>;
}

function sidecarHttpOf(client: DaprClient): SidecarHttp {
  const http = client.daprClient as unknown as Partial<SidecarHttp>;
  // Fail at start-up, not on the first drain, if an SDK upgrade moves this.
  if (typeof http.executeWithApiVersion !== "function") {
    throw new Error("@dapr/dapr: the HTTP client has no executeWithApiVersion(); bulk publish needs it");
  }
  return http as SidecarHttp;
}

/** The SDK reports an HTTP error as an Error whose message is `{ error, error_msg: <body>, status }`. */
function errorBodyOf(error: unknown): string {
  if (!(error instanceof Error)) return "";
  const parsed = parseJsonOrUndefined(error.message) as { error_msg?: unknown } | undefined;
  return typeof parsed?.error_msg === "string" ? parsed.error_msg : "";
}

const TIMED_OUT = Symbol("timed out");

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The SDK (over HTTP) resolves `{ error }` instead of throwing; sort out why. */
function classifyPublishError(error: unknown): PublishOutcome & { ok: false } {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"].includes(code)) {
    return { ok: false, reason: "unavailable", detail: `Dapr sidecar unreachable (${code})` };
  }
  const message = error instanceof Error ? error.message : String(error);
  try {
    // HTTP errors come as JSON: { error, error_msg, status }.
    const parsed = JSON.parse(message) as { status?: number; error_msg?: string };
    return {
      ok: false,
      reason: "rejected",
      detail: `Dapr answered ${parsed.status ?? "?"}: ${truncate(parsed.error_msg ?? "")}`,
    };
  } catch {
    return { ok: false, reason: "unavailable", detail: truncate(message) };
  }
}

function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
