/** Records what would have been published; can be told to fail, to test the failure paths. */
import type { EventPublisher, PublishItem, PublishOptions, PublishOutcome } from "../../src/events/event-publisher";
import { publishMetadataFor, type TodoEventPayload } from "../../src/events/todo-event";

export interface PublishedMessage {
  readonly pubsubName: string;
  readonly topic: string;
  readonly payload: TodoEventPayload;
  /** Exactly what the Dapr adapter would send as publish metadata. */
  readonly metadata: Record<string, string>;
}

export class InMemoryEventPublisher implements EventPublisher {
  readonly destination = { pubsubName: "kafka-pubsub", topic: "todo-events" };
  readonly published: PublishedMessage[] = [];
  attempts = 0;
  /**
   * The users of the events of each request, in call order: what would travel to the sidecar
   * together. A publish() is a request of one event, a publishBatch() one of all its items.
   */
  readonly batches: string[][] = [];
  private failuresLeft = 0;
  private readonly userFailuresLeft = new Map<string, number>();
  private gate: Promise<void> | undefined;
  closed = false;

  /** The next `count` publishes fail with reason "unavailable". */
  failNext(count: number): this {
    this.failuresLeft = count;
    return this;
  }

  /** The next `count` publishes of `userId`'s events fail; other users are unaffected. */
  failFor(userId: string, count: number): this {
    this.userFailuresLeft.set(userId, count);
    return this;
  }

  /** Publishes wait until the returned function is called (to test concurrent requests). */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => (release = resolve));
    return () => {
      this.gate = undefined;
      release();
    };
  }

  async publish(event: TodoEventPayload, options: PublishOptions = {}): Promise<PublishOutcome> {
    this.batches.push([event.user_id]);
    return this.publishOne(event, options);
  }

  private async publishOne(event: TodoEventPayload, options: PublishOptions): Promise<PublishOutcome> {
    this.attempts += 1;
    if (this.gate !== undefined) await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return { ok: false, reason: "unavailable", detail: "in-memory publisher told to fail" };
    }
    const userFailures = this.userFailuresLeft.get(event.user_id) ?? 0;
    if (userFailures > 0) {
      this.userFailuresLeft.set(event.user_id, userFailures - 1);
      return { ok: false, reason: "rejected", detail: `in-memory publisher told to fail for ${event.user_id}` };
    }
    // A structured copy, as a real transport would serialise it.
    const payload = JSON.parse(JSON.stringify(event)) as TodoEventPayload;
    this.published.push({ ...this.destination, payload, metadata: publishMetadataFor(event, options.traceparent) });
    return { ok: true };
  }

  async publishBatch(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    this.batches.push(items.map((item) => item.event.user_id));
    const outcomes: PublishOutcome[] = [];
    for (const item of items) outcomes.push(await this.publishOne(item.event, item.options ?? {}));
    return outcomes;
  }

  /** Forgets what was published so far (fixtures that publish before the test starts). */
  forget(): void {
    this.published.splice(0);
    this.batches.splice(0);
    this.attempts = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Event ids per user, in the order they were published. */
export function publishedOrderByUser(messages: readonly PublishedMessage[]): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const { payload } of messages)
    byUser.set(payload.user_id, [...(byUser.get(payload.user_id) ?? []), payload.event_id]);
  return byUser;
}
