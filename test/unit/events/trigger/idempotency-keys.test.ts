import { ENTRY_OVERHEAD_BYTES, IdempotencyKeys } from "../../../../src/events/trigger/idempotency-keys";

describe("IdempotencyKeys", () => {
  let now = 0;
  let counter = 0;
  const freshId = () => `event-${++counter}`;
  const keys = (maxEntries = 10, maxBytes = 1024 * 1024) =>
    new IdempotencyKeys({ ttlMs: 1000, maxEntries, maxBytes, now: () => now });
  /** What one entry of user-a under a two-character key is estimated at: event-N ids, 43-character digests. */
  const entryBytes = (eventId: string) => ENTRY_OVERHEAD_BYTES + "user-a\u0000kN".length + eventId.length + 43;

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

  it("keeps the estimated bytes within maxBytes, dropping the oldest first", () => {
    const store = keys(100, 3 * entryBytes("event-1"));
    for (const key of ["k1", "k2", "k3", "k4"]) store.reserve("user-a", key, "fp", freshId);

    expect(store.size).toBe(3);
    expect(store.estimatedBytes).toBeLessThanOrEqual(3 * entryBytes("event-1"));
    expect(store.reserve("user-a", "k1", "fp", freshId).kind).toBe("new");
    expect(store.reserve("user-a", "k4", "fp", freshId).kind).toBe("retry");
  });

  it("estimates an entry by its key, event id and digest plus a fixed overhead", () => {
    const store = keys();
    store.reserve("user-a", "k1", "fp", freshId);

    expect(store.estimatedBytes).toBe(entryBytes("event-1"));
  });

  it("costs the same whatever the size of the fingerprint, which it keeps only as a digest", () => {
    const small = keys();
    const large = keys();
    small.reserve("user-a", "k1", "fp", freshId);
    counter = 0;
    large.reserve("user-a", "k1", "x".repeat(16 * 1024), freshId);

    expect(large.estimatedBytes).toBe(small.estimatedBytes);
  });

  it("still tells a different request under the same key apart when fingerprints are large", () => {
    const store = keys();
    const details = "x".repeat(16 * 1024);
    store.reserve("user-a", "k", `${details}a`, freshId);

    expect(store.reserve("user-a", "k", `${details}a`, freshId).kind).toBe("retry");
    expect(store.reserve("user-a", "k", `${details}b`, freshId)).toEqual({ kind: "conflict" });
  });

  it("counts a user id outside Latin-1 at two bytes a character", () => {
    const latin = keys();
    const wide = keys();
    latin.reserve("user-é", "k1", "fp", freshId);
    counter = 0;
    wide.reserve("user-ē", "k1", "fp", freshId);

    expect(wide.estimatedBytes - latin.estimatedBytes).toBe("user-ē\u0000k1".length);
  });

  it("gives back an entry's bytes when it expires", () => {
    const store = keys();
    store.reserve("user-a", "k1", "fp", freshId);
    store.reserve("user-a", "k2", "fp", freshId);

    now = 1000;
    store.reserve("user-a", "k3", "fp", freshId);

    expect(store.size).toBe(1);
    expect(store.estimatedBytes).toBe(entryBytes("event-3"));
  });

  it("stays within maxBytes under a flood of distinct keys", () => {
    const maxBytes = 64 * 1024;
    const store = keys(1_000_000, maxBytes);
    for (let i = 0; i < 20_000; i++) store.reserve("u".repeat(256), `key-${i}`, "x".repeat(16 * 1024), freshId);

    expect(store.estimatedBytes).toBeLessThanOrEqual(maxBytes);
    expect(store.size).toBeLessThan(maxBytes / (ENTRY_OVERHEAD_BYTES + 256));
    expect(store.reserve("u".repeat(256), "key-19999", "x".repeat(16 * 1024), freshId).kind).toBe("retry");
  });
});
