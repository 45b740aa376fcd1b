/** Wraps an EventPublisher to count and time publishes, without the publisher knowing about metrics. */
import type { Metrics } from "../metrics/metrics";
import type { EventPublisher, PublishItem, PublishOptions, PublishOutcome } from "./event-publisher";
import { TODO_MUTATION_ACTIONS, type TodoEventPayload } from "./todo-event";

/** Client-chosen trigger actions would make the label unbounded: they all count as "custom". */
const KNOWN_ACTIONS: ReadonlySet<string> = new Set(TODO_MUTATION_ACTIONS);
const actionLabel = (action: string): string => (KNOWN_ACTIONS.has(action) ? action : "custom");

export class MeteredEventPublisher implements EventPublisher {
  readonly destination: EventPublisher["destination"];

  constructor(
    private readonly inner: EventPublisher,
    private readonly metrics: Metrics,
    /** Which path publishes through this instance: the trigger mutation or the outbox relay. */
    private readonly via: "trigger" | "outbox",
  ) {
    this.destination = inner.destination;
  }

  async publish(event: TodoEventPayload, options?: PublishOptions): Promise<PublishOutcome> {
    const started = performance.now();
    const outcome = await this.inner.publish(event, options);
    this.record(event, outcome, started);
    return outcome;
  }

  /** Each event of a batch counts on its own and waited as long as the whole batch. */
  async publishBatch(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    const started = performance.now();
    const outcomes = await this.inner.publishBatch(items);
    items.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome !== undefined) this.record(item.event, outcome, started);
    });
    return outcomes;
  }

  private record(event: TodoEventPayload, outcome: PublishOutcome, startedMs: number): void {
    const seconds = (performance.now() - startedMs) / 1000;
    this.metrics.publishDuration.observe({ outcome: outcome.ok ? "ok" : outcome.reason }, seconds);
    const action = actionLabel(event.action);
    if (outcome.ok) this.metrics.eventsPublished.inc({ action, via: this.via });
    else this.metrics.eventsFailed.inc({ action, reason: outcome.reason });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
