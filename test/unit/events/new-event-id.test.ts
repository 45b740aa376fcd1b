import { draftTodoEvent, newEventId } from "../../../src/events/todo-event";
import { eventContract } from "../../support/event-contract";

describe("newEventId", () => {
  it("makes version 7 UUIDs, which the contract's uuid format accepts", () => {
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const event = {
      ...draftTodoEvent({ action: "task_nudged", taskId: 1, userId: "alice", details: {} }),
      sequence: 1,
    };
    expect(eventContract().payloadViolations(event)).toEqual([]);
  });

  it("orders ids by the time they were made, also within one millisecond: the log's index grows at its end", () => {
    const ids = Array.from({ length: 5000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it("carries the time it was made in its first 48 bits", () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    const millis = parseInt(id.replace(/-/g, "").slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(after);
  });

  it("keeps an id it is given (a retry's)", () => {
    expect(draftTodoEvent({ action: "a", taskId: 1, userId: "u", details: {}, eventId: "given" }).event_id).toBe(
      "given",
    );
  });
});
