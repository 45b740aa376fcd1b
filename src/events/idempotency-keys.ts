/**
 * Remembers, per user and idempotency key, the event id a request minted, so
 * a client's retry reuses it instead of minting a second event. Entries live
 * for a bounded time and count; this store is per process (see README).
 */
import type { PublishOutcome } from "./event-publisher";

export interface IdempotencyKeysOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

interface Entry {
  readonly eventId: string;
  /** What the first request asked for; a different request under the same key is refused. */
  readonly fingerprint: string;
  readonly expiresAt: number;
  published: boolean;
  /** Set while a publish for this key is running, so concurrent retries share it. */
  inFlight?: Promise<PublishOutcome>;
}

export type Reservation =
  | { readonly kind: "new" | "retry"; readonly eventId: string; readonly entry: Entry }
  | { readonly kind: "published"; readonly eventId: string }
  | { readonly kind: "in-flight"; readonly eventId: string; readonly outcome: Promise<PublishOutcome> }
  | { readonly kind: "conflict" };

export class IdempotencyKeys {
  // Map keeps insertion order, so the first entries are the oldest.
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: IdempotencyKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  reserve(userId: string, key: string, fingerprint: string, freshEventId: () => string): Reservation {
    const mapKey = `${userId}\u0000${key}`;
    const now = this.now();
    const existing = this.entries.get(mapKey);
    if (existing !== undefined && existing.expiresAt > now) {
      if (existing.fingerprint !== fingerprint) return { kind: "conflict" };
      if (existing.published) return { kind: "published", eventId: existing.eventId };
      if (existing.inFlight !== undefined)
        return { kind: "in-flight", eventId: existing.eventId, outcome: existing.inFlight };
      return { kind: "retry", eventId: existing.eventId, entry: existing };
    }
    this.entries.delete(mapKey);
    this.evict(now);
    const entry: Entry = {
      eventId: freshEventId(),
      fingerprint,
      expiresAt: now + this.options.ttlMs,
      published: false,
    };
    this.entries.set(mapKey, entry);
    return { kind: "new", eventId: entry.eventId, entry };
  }

  /** Follows a publish made under a reservation: concurrent retries wait for it, success is remembered. */
  track(reservation: Reservation & { kind: "new" | "retry" }, outcome: Promise<PublishOutcome>): void {
    const entry = reservation.entry;
    entry.inFlight = outcome;
    outcome.then(
      (result) => {
        entry.inFlight = undefined;
        entry.published = result.ok;
      },
      () => {
        entry.inFlight = undefined;
      },
    );
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [mapKey, entry] of this.entries) {
      const full = this.entries.size >= this.options.maxEntries;
      if (!full && entry.expiresAt > now) break;
      this.entries.delete(mapKey);
    }
  }
}
