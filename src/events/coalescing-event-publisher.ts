/**
 * Gathers the single publishes that arrive in one turn of the event loop into one bulk publish.
 * Under load many triggerTodoEvent requests reach their publish in the same turn; one request
 * to the sidecar for all of them costs the API, daprd and Kafka far less than one each.
 *
 * Order: events that share a batch were published concurrently, so no order among them was
 * ever defined; a caller that awaits one publish before the next (one user's sequential
 * requests) never has both in the same batch.
 */
import type { EventPublisher, PublishItem, PublishOptions, PublishOutcome } from "./event-publisher";
import type { TodoEventPayload } from "./todo-event";

interface Waiting {
  readonly item: PublishItem;
  readonly resolve: (outcome: PublishOutcome) => void;
}

export class CoalescingEventPublisher implements EventPublisher {
  readonly destination: EventPublisher["destination"];
  private waiting: Waiting[] = [];
  private flushScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly inner: EventPublisher,
    /** Most events in one bulk publish; a fuller turn is split. */
    private readonly maxEntries: number,
  ) {
    this.destination = inner.destination;
  }

  publish(event: TodoEventPayload, options?: PublishOptions): Promise<PublishOutcome> {
    return new Promise((resolve) => {
      this.waiting.push({ item: options === undefined ? { event } : { event, options }, resolve });
      if (this.waiting.length >= this.maxEntries) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the current turn's I/O callbacks and their promise chains: every publish
        // reached in this turn joins the batch.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Already a batch: passed straight through. */
  publishBatch(items: readonly PublishItem[]): Promise<PublishOutcome[]> {
    return this.inner.publishBatch(items);
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.inFlight);
    await this.inner.close();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    const sent = this.send(batch);
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  private async send(batch: readonly Waiting[]): Promise<void> {
    let outcomes: PublishOutcome[];
    try {
      // A turn with one publish stays a single publish: no batch of one to unpack on the other side.
      const [only] = batch;
      outcomes =
        batch.length === 1 && only !== undefined
          ? [await this.inner.publish(only.item.event, only.item.options)]
          : await this.inner.publishBatch(batch.map((waiting) => waiting.item));
    } catch (error) {
      // EventPublisher implementations report failures as outcomes; a throw is a bug, but it
      // must still answer every caller rather than leave their requests hanging.
      const detail = error instanceof Error ? error.message : String(error);
      outcomes = batch.map(() => ({ ok: false, reason: "rejected", detail }));
    }
    batch.forEach((waiting, index) => {
      waiting.resolve(
        outcomes[index] ?? {
          ok: false,
          reason: "rejected",
          detail: "the publisher returned no outcome for this event",
        },
      );
    });
  }
}
