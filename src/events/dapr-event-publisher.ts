/**
 * Publishes todo events through the Dapr sidecar's HTTP API with one
 * `DaprClient` for the whole process (the seed opened one per call).
 */
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import type { Logger } from "../logging/logger";
import type { EventPublisher, PublishOptions, PublishOutcome } from "./event-publisher";
import { publishMetadataFor, type TodoEvent } from "./todo-event";

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
  }

  async publish(event: TodoEvent, options: PublishOptions = {}): Promise<PublishOutcome> {
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
    if (outcome === TIMED_OUT) {
      return {
        ok: false,
        reason: "timeout",
        detail: `no answer from the Dapr sidecar within ${this.options.publishTimeoutMs} ms`,
      };
    }
    if (outcome.error === undefined) return { ok: true };
    return classifyPublishError(outcome.error);
  }

  async close(): Promise<void> {
    await this.client.stop();
  }
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
