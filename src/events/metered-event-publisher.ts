/** Wraps an EventPublisher to count and time publishes, without the publisher knowing about metrics. */
import type { Metrics } from "../metrics/metrics";
import type { EventPublisher, PublishOptions, PublishOutcome } from "./event-publisher";
import type { TodoEvent } from "./todo-event";

/** Client-chosen trigger actions would make the label unbounded: they all count as "custom". */
const KNOWN_ACTIONS = new Set(["task_created", "task_updated", "task_completed", "task_deleted"]);
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

  async publish(event: TodoEvent, options?: PublishOptions): Promise<PublishOutcome> {
    const stopTimer = this.metrics.publishDuration.startTimer();
    const outcome = await this.inner.publish(event, options);
    stopTimer({ outcome: outcome.ok ? "ok" : outcome.reason });
    const action = actionLabel(event.action);
    if (outcome.ok) this.metrics.eventsPublished.inc({ action, via: this.via });
    else this.metrics.eventsFailed.inc({ action, reason: outcome.reason });
    return outcome;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
