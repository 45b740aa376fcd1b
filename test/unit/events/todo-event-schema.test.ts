/**
 * The payload's JSON Schema, as published in schema/asyncapi.yaml, accepts what the API publishes
 * and refuses what the API's own rules refuse: the two never disagree.
 */
import { randomUUID } from "node:crypto";
import { ACTION_PATTERN, MAX_DETAILS_BYTES, MAX_DETAILS_DEPTH } from "../../../src/events/todo-event-rules";
import { createdDetails } from "../../../src/todos/todo-event-details";
import { eventContract } from "../../support/event-contract";
import { todoEventPayload } from "../../support/event-payloads";
import { nestedObjects } from "../../support/nested-json";

const violationsOf = (payload: unknown): string[] => eventContract().payloadViolations(payload);
const eventWith = (overrides: Record<string, unknown>): Record<string, unknown> => ({
  ...todoEventPayload({ eventId: randomUUID(), action: "task_reviewed", taskId: 7, userId: "user-1", details: {} }, 3),
  ...overrides,
});

describe("the published payload schema", () => {
  it("accepts an event as the API builds it for a new todo", () => {
    const details = createdDetails({
      id: 7,
      userId: "user-1",
      title: "Sample task",
      description: null,
      priority: "HIGH",
      dueAt: new Date("2026-12-01T00:00:00.000Z"),
      completed: false,
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    expect(violationsOf(eventWith({ action: "task_created", details }))).toEqual([]);
  });

  it("accepts fields it does not know yet, since fields are only ever added", () => {
    expect(violationsOf(eventWith({ added_later: true }))).toEqual([]);
  });

  it.each(["event_id", "sequence", "action", "task_id", "user_id", "details", "occurred_at", "schema_version"])(
    "requires %s",
    (field) => {
      const event = eventWith({});
      delete event[field];
      expect(violationsOf(event)).toEqual([expect.stringContaining(field)]);
    },
  );

  it.each([
    ["a non-uuid event_id", { event_id: "not-a-uuid" }],
    ["sequence 0", { sequence: 0 }],
    ["a fractional sequence", { sequence: 1.5 }],
    ["task_id 0", { task_id: 0 }],
    ["an empty user_id", { user_id: "" }],
    ["a user_id over 256 characters", { user_id: "u".repeat(257) }],
    ["details that are an array", { details: [] }],
    ["an occurred_at that is no date-time", { occurred_at: "yesterday" }],
    ["schema_version 2", { schema_version: 2 }],
  ])("refuses %s", (_what, overrides) => {
    expect(violationsOf(eventWith(overrides))).not.toEqual([]);
  });

  it.each(["task_created", "a", "task.reviewed-2", `a${"b".repeat(63)}`, "Task", "1task", "", `a${"b".repeat(64)}`])(
    "agrees with the API on the action %j",
    (action) => {
      expect(violationsOf(eventWith({ action })).length === 0).toBe(ACTION_PATTERN.test(action));
    },
  );

  it("refuses details that repeat a field of the event at the top, and allows the name deeper in", () => {
    expect(violationsOf(eventWith({ details: { user_id: "forged" } }))).not.toEqual([]);
    expect(violationsOf(eventWith({ details: { sequence: 1 } }))).not.toEqual([]);
    expect(violationsOf(eventWith({ details: { reviewer: { user_id: "someone" } } }))).toEqual([]);
  });

  it(`agrees with the API on details of ${MAX_DETAILS_BYTES} bytes and one more`, () => {
    const padding = MAX_DETAILS_BYTES - JSON.stringify({ text: "" }).length;
    expect(violationsOf(eventWith({ details: { text: "x".repeat(padding) } }))).toEqual([]);
    expect(violationsOf(eventWith({ details: { text: "x".repeat(padding + 1) } }))).not.toEqual([]);
  });

  it(`agrees with the API on details ${MAX_DETAILS_DEPTH} levels deep and one more`, () => {
    expect(violationsOf(eventWith({ details: nestedObjects(MAX_DETAILS_DEPTH) }))).toEqual([]);
    expect(violationsOf(eventWith({ details: nestedObjects(MAX_DETAILS_DEPTH + 1) }))).not.toEqual([]);
  });
});
