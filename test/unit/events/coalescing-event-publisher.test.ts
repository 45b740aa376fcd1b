/** Trigger publishes of one event-loop turn share a bulk publish; every caller still gets its own outcome. */
import { CoalescingEventPublisher } from "../../../src/events/coalescing-event-publisher";
import type { EventPublisher } from "../../../src/events/event-publisher";
import type { TodoEventPayload } from "../../../src/events/todo-event";
import { InMemoryEventPublisher } from "../../support/in-memory-event-publisher";
import { todoEventPayload } from "../../support/event-payloads";

const eventOf = (userId: string): TodoEventPayload =>
  todoEventPayload({ action: "task_reviewed", taskId: 1, userId, details: {} });

describe("CoalescingEventPublisher", () => {
  let inner: InMemoryEventPublisher;
  beforeEach(() => {
    inner = new InMemoryEventPublisher();
  });

  it("sends the publishes of one turn as one batch and answers each caller", async () => {
    const publisher = new CoalescingEventPublisher(inner, 100);

    const outcomes = await Promise.all(["alice", "bob", "carol"].map((user) => publisher.publish(eventOf(user))));

    expect(inner.batches).toEqual([["alice", "bob", "carol"]]);
    expect(outcomes).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it("keeps a caller's sequential publishes in separate batches, in order", async () => {
    const publisher = new CoalescingEventPublisher(inner, 100);
    const first = eventOf("alice");
    const second = eventOf("alice");

    await publisher.publish(first);
    await publisher.publish(second);

    expect(inner.batches).toEqual([["alice"], ["alice"]]);
    expect(inner.published.map((message) => message.payload.event_id)).toEqual([first.event_id, second.event_id]);
  });

  it("sends a turn's only publish as a single publish, not as a batch of one", async () => {
    const single: EventPublisher = {
      destination: inner.destination,
      publish: (event) => inner.publish(event),
      publishBatch: () => Promise.reject(new Error("a batch of one was sent")),
      close: () => Promise.resolve(),
    };
    const publisher = new CoalescingEventPublisher(single, 100);

    expect(await publisher.publish(eventOf("alice"))).toEqual({ ok: true });
    expect(inner.published).toHaveLength(1);
  });

  it("splits a turn into batches of at most maxEntries", async () => {
    const publisher = new CoalescingEventPublisher(inner, 2);

    await Promise.all(["a", "b", "c", "d", "e"].map((user) => publisher.publish(eventOf(user))));

    expect(inner.batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("fails only the caller whose event failed", async () => {
    inner.failFor("bob", 1);
    const publisher = new CoalescingEventPublisher(inner, 100);

    const [alice, bob] = await Promise.all([publisher.publish(eventOf("alice")), publisher.publish(eventOf("bob"))]);

    expect(alice).toEqual({ ok: true });
    expect(bob).toMatchObject({ ok: false, reason: "rejected" });
  });

  it("passes the traceparent of each publish on to its entry", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const publisher = new CoalescingEventPublisher(inner, 100);

    await Promise.all([publisher.publish(eventOf("alice"), { traceparent }), publisher.publish(eventOf("bob"))]);

    expect(inner.published.map((message) => message.metadata["cloudevent.traceparent"])).toEqual([
      traceparent,
      undefined,
    ]);
  });

  it("answers every caller with a failure when the inner publisher throws", async () => {
    const throwing: EventPublisher = {
      destination: inner.destination,
      publish: () => Promise.reject(new Error("not used")),
      publishBatch: () => Promise.reject(new Error("bulk exploded")),
      close: () => Promise.resolve(),
    };
    const publisher = new CoalescingEventPublisher(throwing, 100);

    const outcomes = await Promise.all([publisher.publish(eventOf("alice")), publisher.publish(eventOf("bob"))]);

    expect(outcomes).toEqual([
      { ok: false, reason: "rejected", detail: "bulk exploded" },
      { ok: false, reason: "rejected", detail: "bulk exploded" },
    ]);
  });

  it("sends what is waiting and waits for it before closing the inner publisher", async () => {
    const release = inner.hold();
    const publisher = new CoalescingEventPublisher(inner, 100);
    const pending = publisher.publish(eventOf("alice"));

    const closing = publisher.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inner.closed).toBe(false);
    release();
    await closing;

    expect(inner.closed).toBe(true);
    expect(await pending).toEqual({ ok: true });
    expect(inner.published).toHaveLength(1);
  });
});
