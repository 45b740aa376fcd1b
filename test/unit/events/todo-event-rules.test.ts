import {
  assertValidTriggerRequest,
  isNestedDeeperThan,
  MAX_DETAILS_BYTES,
  MAX_DETAILS_DEPTH,
  RESERVED_DETAILS_KEYS,
  type TriggerRequest,
} from "../../../src/events/todo-event-rules";
import type { JsonObject } from "../../../src/events/todo-event";
import { nestedObjects } from "../../support/nested-json";

const requestWith = (details: JsonObject): TriggerRequest => ({ taskId: 1, action: "task_created", details });

describe("assertValidTriggerRequest", () => {
  it(`accepts details nested ${MAX_DETAILS_DEPTH} levels deep`, () => {
    expect(() => assertValidTriggerRequest(requestWith(nestedObjects(MAX_DETAILS_DEPTH)))).not.toThrow();
  });

  it(`refuses details nested ${MAX_DETAILS_DEPTH + 1} levels deep as bad input naming input.details`, () => {
    expect(() => assertValidTriggerRequest(requestWith(nestedObjects(MAX_DETAILS_DEPTH + 1)))).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", field: "input.details" }),
    );
  });

  it("refuses details nested 5000 levels deep quickly, without overflowing the stack", () => {
    const request = requestWith(nestedObjects(5000));
    const started = performance.now();

    expect(() => assertValidTriggerRequest(request)).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", field: "input.details" }),
    );
    expect(performance.now() - started).toBeLessThan(50);
  });

  it("counts arrays as levels", () => {
    const arrays = nestedObjects(MAX_DETAILS_DEPTH - 1, [[]]);

    expect(() => assertValidTriggerRequest(requestWith(arrays))).toThrow(
      expect.objectContaining({ field: "input.details" }),
    );
  });

  it(`refuses details over ${MAX_DETAILS_BYTES} bytes serialised`, () => {
    expect(() => assertValidTriggerRequest(requestWith({ text: "x".repeat(MAX_DETAILS_BYTES) }))).toThrow(
      expect.objectContaining({ code: "BAD_USER_INPUT", field: "input.details" }),
    );
  });
});

describe("reserved keys in details", () => {
  it("reserves at least the identity fields of the event", () => {
    expect(RESERVED_DETAILS_KEYS).toEqual(expect.arrayContaining(["user_id", "event_id", "sequence", "task_id"]));
  });

  it.each(RESERVED_DETAILS_KEYS.map((key) => [key]))(
    "refuses a top-level %s in details as bad input naming that key",
    (key) => {
      expect(() => assertValidTriggerRequest(requestWith({ note: "hi", [key]: "forged" }))).toThrow(
        expect.objectContaining({ code: "BAD_USER_INPUT", field: `input.details.${key}` }),
      );
    },
  );

  it("accepts a reserved name deeper inside details, where no consumer mistakes it for the event's", () => {
    expect(() => assertValidTriggerRequest(requestWith({ assignee: { user_id: "someone-else" } }))).not.toThrow();
  });
});

describe("isNestedDeeperThan", () => {
  it("counts only objects and arrays, the outermost as level 1", () => {
    expect(isNestedDeeperThan("text", 0)).toBe(false);
    expect(isNestedDeeperThan({}, 1)).toBe(false);
    expect(isNestedDeeperThan({ a: [] }, 1)).toBe(true);
    expect(isNestedDeeperThan({ a: [1, "two", null] }, 2)).toBe(false);
  });

  it("finds the deep branch among wide shallow ones", () => {
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, index) => [`k${index}`, { flat: index }]));

    expect(isNestedDeeperThan({ ...wide, deep: nestedObjects(3) }, 3)).toBe(true);
    expect(isNestedDeeperThan({ ...wide, deep: nestedObjects(2) }, 3)).toBe(false);
  });

  it("stops at a cycle instead of walking it forever", () => {
    const cycle: JsonObject = {};
    cycle.self = cycle;

    expect(isNestedDeeperThan(cycle, MAX_DETAILS_DEPTH)).toBe(true);
  });
});
