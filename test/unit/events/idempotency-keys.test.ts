import { IdempotencyKeys } from "../../../src/events/idempotency-keys";

describe("IdempotencyKeys", () => {
  let now = 0;
  let counter = 0;
  const freshId = () => `event-${++counter}`;
  const keys = (maxEntries = 10) => new IdempotencyKeys({ ttlMs: 1000, maxEntries, now: () => now });

  beforeEach(() => {
    now = 0;
    counter = 0;
  });

  it("hands out the reserved event id again until the window ends", () => {
    const store = keys();
    const first = store.reserve("user-a", "k", "fp", freshId);

    now = 999;
    expect(store.reserve("user-a", "k", "fp", freshId)).toMatchObject({
      kind: "retry",
      eventId: first.kind === "new" ? first.eventId : "",
    });
    now = 1000;
    expect(store.reserve("user-a", "k", "fp", freshId)).toMatchObject({ kind: "new", eventId: "event-2" });
  });

  it("remembers a successful publish", async () => {
    const store = keys();
    const reservation = store.reserve("user-a", "k", "fp", freshId);
    if (reservation.kind !== "new") throw new Error("expected a new reservation");

    const outcome = Promise.resolve({ ok: true as const });
    store.track(reservation, outcome);
    await outcome;
    await Promise.resolve();

    expect(store.reserve("user-a", "k", "fp", freshId)).toEqual({ kind: "published", eventId: "event-1" });
  });

  it("reports a conflict when the key is reused for a different request", () => {
    const store = keys();
    store.reserve("user-a", "k", "fp-1", freshId);

    expect(store.reserve("user-a", "k", "fp-2", freshId)).toEqual({ kind: "conflict" });
  });

  it("keeps at most maxEntries keys, dropping the oldest first", () => {
    const store = keys(3);
    for (const key of ["k1", "k2", "k3", "k4"]) store.reserve("user-a", key, "fp", freshId);

    expect(store.size).toBe(3);
    expect(store.reserve("user-a", "k1", "fp", freshId).kind).toBe("new");
    expect(store.reserve("user-a", "k4", "fp", freshId).kind).toBe("retry");
  });
});
