import {
  MAX_BUFFERED_EVENTS,
  SubscriberTooSlowError,
  TodoEventFeed,
} from "../../../../src/events/delivery/todo-event-feed";
import { eventFor } from "../../../support/deliveries";

describe("TodoEventFeed", () => {
  it("hands each user's events to that user's subscribers only, in order", async () => {
    const feed = new TodoEventFeed();
    const alice = feed.subscribe("alice");
    const [first, second] = [eventFor("alice", 1), eventFor("alice", 2)];

    expect(feed.deliver(first)).toBe(1);
    expect(feed.deliver(eventFor("bob"))).toBe(0);
    expect(feed.deliver(second)).toBe(1);

    expect((await alice.next()).value).toBe(first);
    expect((await alice.next()).value).toBe(second);
  });

  it("ends a subscriber that falls too far behind instead of buffering without bound", async () => {
    const feed = new TodoEventFeed();
    const slow = feed.subscribe("alice");
    for (let index = 0; index <= MAX_BUFFERED_EVENTS; index += 1) feed.deliver(eventFor("alice", index + 1));

    expect(feed.activeSubscriptions).toBe(0);
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberTooSlowError);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
  });

  it("releases a subscriber on return() and completes waiting readers on close()", async () => {
    const feed = new TodoEventFeed();
    const leaving = feed.subscribe("alice");
    const waiting = feed.subscribe("bob");
    const pending = waiting.next();

    await leaving.return?.();
    expect(feed.activeSubscriptions).toBe(1);
    feed.close();

    expect(await pending).toEqual({ value: undefined, done: true });
    expect(feed.activeSubscriptions).toBe(0);
  });
});
