/**
 * The identity provider's keys, held in memory and refreshed without ever
 * letting token traffic decide how often the provider is asked.
 *
 * jwks-rsa's own cache and rate limit do not give that: its cache is per
 * `kid`, so every unknown `kid` is a miss that fetches the whole JWKS; its
 * rate limit is a token bucket per client that lets a burst of
 * `jwksRequestsPerMinute` fetches through at once and then fails every miss,
 * new legitimate keys included; it ignores the provider's Cache-Control; and a
 * cached key whose entry expires while the provider is down stops working.
 * Here instead:
 * - one key set for the process, replaced only by a successful fetch, so keys
 *   keep working through an outage and a removed key goes with the next one;
 * - the set is refreshed in the background once it is older than the
 *   provider's max-age, kept within configured bounds;
 * - an unknown `kid` refetches at most once per cooldown, process-wide; calls
 *   that arrive meanwhile share that one fetch or are refused at once;
 * - once a fetch has failed, an unknown `kid` never waits for the provider.
 */
import type { ProviderKeyCacheConfig } from "../../config/config";
import { FetchFailure } from "./http-json";
import type { KeySet, KeySetSource, ProviderKey } from "./jwks-source";

/** Why a fetch happened: the one at start-up, a cached set past its age, or a token naming a key we do not have. */
export type KeyFetchTrigger = "startup" | "expired" | "unknown_kid";

export interface KeyFetchEvent {
  readonly trigger: KeyFetchTrigger;
  readonly outcome: "ok" | "error";
  /** Why it failed, in a few words. */
  readonly reason?: string;
  /** The thrown value, when it was not an expected fetch failure (a bug to log with its stack). */
  readonly error?: unknown;
}

/** What /readyz shows. Neither an empty set nor a failed refresh makes the API unready. */
export interface SigningKeyStatus {
  readonly keys: "loaded" | "not-loaded";
  readonly count: number;
  readonly lastRefresh: "ok" | "failed" | "never";
  /** ISO time of the last attempt, and of the last success. */
  readonly lastRefreshAt?: string;
  readonly lastLoadedAt?: string;
  /** Why the last attempt failed, in a few words (no URL, no body). */
  readonly lastError?: string;
}

export interface SigningKeyCacheOptions {
  readonly source: KeySetSource;
  readonly tuning: Pick<ProviderKeyCacheConfig, "minAgeMs" | "maxAgeMs" | "refetchCooldownMs">;
  /** Called once per fetch when it ends: the place to count fetches and log failures. */
  readonly onFetch?: (event: KeyFetchEvent) => void;
  readonly now?: () => number;
}

export class SigningKeyCache {
  private keys: ReadonlyMap<string, ProviderKey> = new Map();
  /** When the key set is old enough to be refreshed in the background. */
  private refreshDueAt = 0;
  private lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private lastAttempt: { at: number; ok: boolean; error?: string } | undefined;
  private lastLoadedAt: number | undefined;
  private readonly now: () => number;

  constructor(private readonly options: SigningKeyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The first fetch; a failure is recorded (and reported through onFetch), never thrown. */
  load(): Promise<void> {
    return this.refresh("startup");
  }

  /** The key with this id, or undefined when the provider does not (or cannot be asked whether it does) have it. */
  async keyFor(kid: string): Promise<ProviderKey | undefined> {
    const known = this.keys.get(kid);
    if (known !== undefined) {
      if (this.now() >= this.refreshDueAt) void this.refresh("expired");
      return known;
    }
    // A provider that failed last time is likely still down: ask it, but make nobody wait for it.
    const failedLastTime = this.lastAttempt?.ok === false;
    if (this.inFlight !== undefined) {
      if (failedLastTime) return undefined;
      await this.inFlight;
      return this.keys.get(kid);
    }
    if (this.now() < this.lastUnknownKidFetchAt + this.options.tuning.refetchCooldownMs) return undefined;
    this.lastUnknownKidFetchAt = this.now();
    const fetching = this.refresh("unknown_kid");
    if (failedLastTime) return undefined;
    await fetching;
    return this.keys.get(kid);
  }

  /**
   * Whether the key set is due for a refresh. Callers that remember verifications stop trusting
   * them then, so the next request reaches keyFor() and starts the refresh.
   */
  isRefreshDue(): boolean {
    return this.now() >= this.refreshDueAt;
  }

  status(): SigningKeyStatus {
    const iso = (at: number | undefined) => (at === undefined ? undefined : new Date(at).toISOString());
    return {
      keys: this.keys.size > 0 ? "loaded" : "not-loaded",
      count: this.keys.size,
      lastRefresh: this.lastAttempt === undefined ? "never" : this.lastAttempt.ok ? "ok" : "failed",
      ...(this.lastAttempt === undefined ? {} : { lastRefreshAt: iso(this.lastAttempt.at) }),
      ...(this.lastLoadedAt === undefined ? {} : { lastLoadedAt: iso(this.lastLoadedAt) }),
      ...(this.lastAttempt?.error === undefined ? {} : { lastError: this.lastAttempt.error }),
    };
  }

  /** One fetch at a time: a refresh asked for while one runs joins it. */
  private refresh(trigger: KeyFetchTrigger): Promise<void> {
    this.inFlight ??= this.fetch(trigger).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetch(trigger: KeyFetchTrigger): Promise<void> {
    const startedAt = this.now();
    // Nobody else starts a background refresh while this one runs or right after it fails.
    this.refreshDueAt = startedAt + this.options.tuning.refetchCooldownMs;
    let set: KeySet;
    try {
      set = await this.options.source();
    } catch (error) {
      const expected = error instanceof FetchFailure;
      const reason = expected ? error.reason : "failed unexpectedly";
      this.lastAttempt = { at: startedAt, ok: false, error: reason };
      this.options.onFetch?.({ trigger, outcome: "error", reason, ...(expected ? {} : { error }) });
      return;
    }
    this.keys = set.keys;
    this.lastAttempt = { at: startedAt, ok: true };
    this.lastLoadedAt = startedAt;
    const { minAgeMs, maxAgeMs } = this.options.tuning;
    this.refreshDueAt = startedAt + Math.min(maxAgeMs, Math.max(minAgeMs, set.maxAgeMs ?? maxAgeMs));
    this.options.onFetch?.({ trigger, outcome: "ok" });
  }
}
