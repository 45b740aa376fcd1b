/**
 * Plays daprd for tests that have no sidecar: every event the in-memory publisher records is
 * POSTed as a CloudEvent to the delivery route of every instance, in publish order. Each instance
 * is its own consumer group, so each one receives every event, and each at its own pace.
 */
import { cloudEventFor, deliver } from "./deliveries";
import type { InMemoryEventPublisher } from "./in-memory-event-publisher";
import type { TodoEventPayload } from "../../src/events/todo-event";

export interface DeliveryForwarder {
  /** Resolves once everything published so far has been delivered to every instance. */
  drained(): Promise<void>;
  /**
   * Holds back deliveries to one instance, as a lagging consumer would, until the returned
   * function is called; what was published meanwhile is then delivered in order.
   */
  lag(origin: string): () => void;
  /** Deliveries that were not acknowledged with SUCCESS; a test expects none. */
  readonly failures: readonly string[];
  /** Stops watching the publisher and waits for the deliveries under way. */
  stop(): Promise<void>;
}

/** Short enough that an event reaches subscribers within milliseconds, as it does through daprd. */
const DEFAULT_POLL_MS = 5;

/**
 * Instances that share a database should share one publisher too: it is then the one topic
 * whose order (per user, the log's order) every instance's consumer sees.
 */
export function forwardDeliveries(
  publisher: InMemoryEventPublisher,
  origins: readonly string[],
  pollMs = DEFAULT_POLL_MS,
): DeliveryForwarder {
  const failures: string[] = [];
  const consumers = new Map(origins.map((origin) => [origin, new Consumer(origin, failures)]));
  let forwarded = 0;
  const forwardNew = (): void => {
    const fresh = publisher.published.slice(forwarded).map((message) => message.payload);
    forwarded += fresh.length;
    for (const consumer of consumers.values()) consumer.enqueue(fresh);
  };
  const timer = setInterval(forwardNew, pollMs);

  const drained = async (): Promise<void> => {
    forwardNew();
    await Promise.all([...consumers.values()].map((consumer) => consumer.idle()));
  };

  return {
    drained,
    lag(origin) {
      const consumer = consumers.get(origin);
      if (consumer === undefined) throw new Error(`no consumer for ${origin}`);
      return consumer.pause();
    },
    failures,
    async stop() {
      clearInterval(timer);
      for (const consumer of consumers.values()) consumer.resume();
      await drained();
    },
  };
}

/** One instance's consumer: delivers one event at a time, in order, like a Kafka partition's. */
class Consumer {
  private readonly queue: TodoEventPayload[] = [];
  private running: Promise<void> | undefined;
  private paused: Promise<void> | undefined;
  private resumePaused: (() => void) | undefined;

  constructor(
    private readonly origin: string,
    private readonly failures: string[],
  ) {}

  enqueue(events: readonly TodoEventPayload[]): void {
    if (events.length === 0) return;
    this.queue.push(...events);
    this.start();
  }

  /** Any of the returned functions ends the pause. */
  pause(): () => void {
    this.paused ??= new Promise<void>((resolve) => (this.resumePaused = resolve));
    return () => this.resume();
  }

  resume(): void {
    const resume = this.resumePaused;
    this.paused = this.resumePaused = undefined;
    resume?.();
  }

  /** Resolves when the queue is empty; a paused consumer is idle only once resumed. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** An event queued while the last run was finishing starts the next run. */
  private start(): void {
    if (this.running !== undefined || this.queue.length === 0) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
      this.start();
    });
  }

  private async run(): Promise<void> {
    for (let event = this.queue.shift(); event !== undefined; event = this.queue.shift()) {
      while (this.paused !== undefined) await this.paused;
      try {
        const answer = await deliver(this.origin, cloudEventFor(event));
        const status = (answer.body as { status?: unknown } | null)?.status;
        if (answer.status !== 200 || status !== "SUCCESS") {
          this.failures.push(`${event.event_id} to ${this.origin}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      } catch (error) {
        this.failures.push(`${event.event_id} to ${this.origin}: ${String(error)}`);
      }
    }
  }
}
