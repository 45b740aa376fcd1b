/**
 * Remembers, per user and idempotency key, the event id a request minted, so
 * a client's retry reuses it instead of minting a second event. Entries live
 * for a bounded time and are bounded in count and in estimated bytes; this
 * store is per process (see README).
 */
import { createHash } from "node:crypto";
import type { PublishOutcome } from "../event-publisher";

export interface IdempotencyKeysOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** Bound on `estimatedBytes`; the oldest entries are forgotten first to stay within it. */
  readonly maxBytes: number;
  readonly now?: () => number;
}

/**
 * What one entry costs beside its strings' characters, measured on Node 20 (64-bit V8): the map
 * slot, the entry object, its expiry (a heap number) and the headers of its three strings come to
 * about 190 bytes; the rest is headroom.
 */
export const ENTRY_OVERHEAD_BYTES = 256;

interface Entry {
  readonly eventId: string;
  /**
   * A digest of what the first request asked for; a different request under the same key is
   * refused. The request itself can be 16 KiB of details, too much to keep for a day per key.
   */
  readonly fingerprintDigest: string;
  readonly expiresAt: number;
  /** This entry's share of `estimatedBytes`. */
  readonly bytes: number;
  published: boolean;
  /** Set while a publish for this key is running, so concurrent retries share it. */
  inFlight: Promise<PublishOutcome> | undefined;
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
  private bytes = 0;

  constructor(private readonly options: IdempotencyKeysOptions) {
    this.now = options.now ?? Date.now;
  }

  reserve(userId: string, key: string, fingerprint: string, freshEventId: () => string): Reservation {
    // join() builds one flat string; a template literal would keep the user id and key as pieces.
    const mapKey = [userId, key].join("\u0000");
    const digest = digestOf(fingerprint);
    const now = this.now();
    const existing = this.entries.get(mapKey);
    if (existing !== undefined && existing.expiresAt > now) {
      if (existing.fingerprintDigest !== digest) return { kind: "conflict" };
      if (existing.published) return { kind: "published", eventId: existing.eventId };
      if (existing.inFlight !== undefined)
        return { kind: "in-flight", eventId: existing.eventId, outcome: existing.inFlight };
      return { kind: "retry", eventId: existing.eventId, entry: existing };
    }
    if (existing !== undefined) this.forget(mapKey, existing);
    const eventId = flatCopy(freshEventId());
    const bytes = ENTRY_OVERHEAD_BYTES + stringBytes(mapKey) + stringBytes(eventId) + stringBytes(digest);
    this.makeRoom(now, bytes);
    const entry: Entry = {
      eventId,
      fingerprintDigest: digest,
      expiresAt: now + this.options.ttlMs,
      bytes,
      published: false,
      inFlight: undefined,
    };
    this.entries.set(mapKey, entry);
    this.bytes += bytes;
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

  /** What the entries are estimated to occupy; at most `maxBytes` (or one entry, if larger). */
  get estimatedBytes(): number {
    return this.bytes;
  }

  /** Drops expired entries, then the oldest ones while the count or the bytes would exceed their bound. */
  private makeRoom(now: number, incomingBytes: number): void {
    for (const [mapKey, entry] of this.entries) {
      const full = this.entries.size >= this.options.maxEntries || this.bytes + incomingBytes > this.options.maxBytes;
      if (!full && entry.expiresAt > now) break;
      this.forget(mapKey, entry);
    }
  }

  private forget(mapKey: string, entry: Entry): void {
    this.entries.delete(mapKey);
    this.bytes -= entry.bytes;
  }
}

/** sha256 as base64url: a 43-character string is smaller in V8 than a Buffer of its 32 bytes. */
function digestOf(fingerprint: string): string {
  return createHash("sha256").update(fingerprint, "utf8").digest("base64url");
}

/** V8 stores a string with a byte per character when all are Latin-1, and two otherwise. */
function stringBytes(text: string): number {
  return /[\u0100-\uffff]/.test(text) ? 2 * text.length : text.length;
}

/**
 * A copy of `text` in one piece. V8 keeps a string built by concatenation as a tree of its
 * pieces, and randomUUID builds its result that way: about 480 bytes, against 56 for the copy.
 */
function flatCopy(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}
