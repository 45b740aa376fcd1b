import { createPublicKey } from "node:crypto";
import { FetchFailure } from "../../../src/auth/provider-keys/http-json";
import type { KeySet, ProviderKey } from "../../../src/auth/provider-keys/jwks-source";
import { SigningKeyCache, type KeyFetchEvent } from "../../../src/auth/provider-keys/signing-key-cache";
import { rsaKeyPair } from "../../support/tokens";

const SECOND = 1000;
const tuning = { minAgeMs: 60 * SECOND, maxAgeMs: 600 * SECOND, refetchCooldownMs: 30 * SECOND };

function keyNamed(kid: string): ProviderKey {
  return { kid, key: createPublicKey(rsaKeyPair().publicKey), algorithms: ["RS256"] };
}

function keySet(kids: string[], maxAgeMs?: number): KeySet {
  return { keys: new Map(kids.map((kid) => [kid, keyNamed(kid)])), ...(maxAgeMs === undefined ? {} : { maxAgeMs }) };
}

/** A provider whose answers the test decides, with a clock the test moves. */
function provider(initial: KeySet | Error) {
  let answer: () => Promise<KeySet> = async () => {
    if (initial instanceof Error) throw initial;
    return initial;
  };
  const fetches: KeyFetchEvent[] = [];
  const clock = { now: 1_000_000 };
  const cache = new SigningKeyCache({
    source: () => answer(),
    tuning,
    onFetch: (event) => fetches.push(event),
    now: () => clock.now,
  });
  return {
    cache,
    fetches,
    clock,
    answers(next: KeySet | Error | (() => Promise<KeySet>)): void {
      answer =
        typeof next === "function"
          ? next
          : async () => {
              if (next instanceof Error) throw next;
              return next;
            };
    },
  };
}

/** Lets background refreshes (started, not awaited) finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("SigningKeyCache", () => {
  it("serves the keys loaded at start-up without asking the provider again", async () => {
    const { cache, fetches } = provider(keySet(["k1"]));
    await cache.load();

    await expect(cache.keyFor("k1")).resolves.toMatchObject({ kid: "k1" });
    await cache.keyFor("k1");
    expect(fetches).toEqual([{ trigger: "startup", outcome: "ok" }]);
  });

  it("refetches once for an unknown kid and finds a key the provider added since", async () => {
    const { cache, fetches, answers } = provider(keySet(["k1"]));
    await cache.load();
    answers(keySet(["k1", "k2"]));

    await expect(cache.keyFor("k2")).resolves.toMatchObject({ kid: "k2" });
    expect(fetches.map((event) => event.trigger)).toEqual(["startup", "unknown_kid"]);
  });

  it("makes one fetch for a thousand unknown kids at once, and none for more within the cooldown", async () => {
    const { cache, fetches, clock } = provider(keySet(["k1"]));
    await cache.load();

    const found = await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.keyFor(`random-${i}`)));
    clock.now += tuning.refetchCooldownMs - 1;
    const later = await cache.keyFor("random-later");

    expect(found.every((key) => key === undefined)).toBe(true);
    expect(later).toBeUndefined();
    expect(fetches.map((event) => event.trigger)).toEqual(["startup", "unknown_kid"]);
  });

  it("refetches for an unknown kid again once the cooldown has passed", async () => {
    const { cache, fetches, clock } = provider(keySet(["k1"]));
    await cache.load();
    await cache.keyFor("unknown-1");
    clock.now += tuning.refetchCooldownMs;
    await cache.keyFor("unknown-2");

    expect(fetches.filter((event) => event.trigger === "unknown_kid")).toHaveLength(2);
  });

  it("refreshes in the background once the set is older than the provider's max-age, answering from the cache meanwhile", async () => {
    const { cache, fetches, clock, answers } = provider(keySet(["k1"], 120 * SECOND));
    await cache.load();
    let release!: () => void;
    answers(() => new Promise<KeySet>((resolve) => (release = () => resolve(keySet(["k2"])))));

    clock.now += 119 * SECOND;
    await cache.keyFor("k1");
    expect(fetches).toHaveLength(1);
    clock.now += SECOND;
    await expect(cache.keyFor("k1")).resolves.toMatchObject({ kid: "k1" });
    expect(fetches).toHaveLength(1); // started, not finished: the caller did not wait for it
    release();
    await settle();

    expect(fetches.map((event) => event.trigger)).toEqual(["startup", "expired"]);
    // The refreshed set no longer has k1: a removed key goes with the refresh.
    clock.now += tuning.refetchCooldownMs;
    answers(keySet(["k2"]));
    await expect(cache.keyFor("k1")).resolves.toBeUndefined();
  });

  it.each([
    ["no-cache (max-age 0) is raised to the minimum", 0, tuning.minAgeMs],
    ["a day is cut to the maximum", 86_400 * SECOND, tuning.maxAgeMs],
    ["no Cache-Control means the maximum", undefined, tuning.maxAgeMs],
  ])("keeps the set for the provider's max-age within bounds: %s", async (_case, maxAgeMs, keptMs) => {
    const { cache, fetches, clock } = provider(keySet(["k1"], maxAgeMs));
    await cache.load();

    clock.now += keptMs - 1;
    await cache.keyFor("k1");
    await settle();
    expect(fetches).toHaveLength(1);
    clock.now += 1;
    await cache.keyFor("k1");
    await settle();
    expect(fetches.map((event) => event.trigger)).toEqual(["startup", "expired"]);
  });

  it("keeps the cached keys when the provider is down, and reports the failure", async () => {
    const { cache, clock, answers } = provider(keySet(["k1"]));
    await cache.load();
    answers(new FetchFailure("unreachable (ECONNREFUSED)"));
    clock.now += tuning.maxAgeMs;
    await cache.keyFor("k1");
    await settle();

    await expect(cache.keyFor("k1")).resolves.toMatchObject({ kid: "k1" });
    expect(cache.status()).toMatchObject({
      keys: "loaded",
      count: 1,
      lastRefresh: "failed",
      lastError: "unreachable (ECONNREFUSED)",
    });
  });

  it("retries a failed background refresh only after the cooldown", async () => {
    const { cache, fetches, clock, answers } = provider(keySet(["k1"]));
    await cache.load();
    answers(new FetchFailure("timed out after 5000 ms"));
    clock.now += tuning.maxAgeMs;
    for (let i = 0; i < 100; i++) {
      await cache.keyFor("k1");
      await settle();
    }
    expect(fetches).toHaveLength(2);
    clock.now += tuning.refetchCooldownMs;
    await cache.keyFor("k1");
    await settle();
    expect(fetches).toHaveLength(3);
  });

  it("refuses an unknown kid at once after a failed fetch, asking the provider in the background", async () => {
    const { cache, fetches, clock, answers } = provider(keySet(["k1"]));
    await cache.load();
    answers(new FetchFailure("unreachable (ECONNREFUSED)"));
    await cache.keyFor("unknown-1");
    clock.now += tuning.refetchCooldownMs;
    let asked = false;
    answers(() => {
      asked = true;
      return new Promise<KeySet>(() => undefined); // a provider that hangs
    });

    await expect(cache.keyFor("unknown-2")).resolves.toBeUndefined();
    expect(asked).toBe(true);
    expect(fetches.filter((event) => event.trigger === "unknown_kid")).toHaveLength(1); // the second never ended
  });

  it("does not make an unknown kid wait for a refresh already running while the provider is failing", async () => {
    const { cache, clock, answers } = provider(keySet(["k1"]));
    await cache.load();
    answers(new FetchFailure("unreachable (ECONNREFUSED)"));
    clock.now += tuning.maxAgeMs;
    await cache.keyFor("k1");
    await settle();
    clock.now += tuning.refetchCooldownMs;
    answers(() => new Promise<KeySet>(() => undefined)); // a provider that hangs
    await cache.keyFor("k1"); // starts the next background refresh, which never ends

    await expect(cache.keyFor("unknown")).resolves.toBeUndefined();
  });

  it("lets an unknown kid share a refresh already running while the provider was fine", async () => {
    const { cache, fetches, clock, answers } = provider(keySet(["k1"]));
    await cache.load();
    let release!: () => void;
    answers(() => new Promise<KeySet>((resolve) => (release = () => resolve(keySet(["k1", "k2"])))));
    clock.now += tuning.maxAgeMs;
    await cache.keyFor("k1");
    const waiting = cache.keyFor("k2");
    release();

    await expect(waiting).resolves.toMatchObject({ kid: "k2" });
    expect(fetches.map((event) => event.trigger)).toEqual(["startup", "expired"]);
  });

  it("starts without keys when the first fetch fails, and says so", async () => {
    const { cache, fetches } = provider(new FetchFailure("answered HTTP 503"));
    await cache.load();

    expect(cache.status()).toMatchObject({ keys: "not-loaded", count: 0, lastRefresh: "failed" });
    expect(fetches).toEqual([{ trigger: "startup", outcome: "error", reason: "answered HTTP 503" }]);
  });

  it("hands an unexpected error to onFetch with the error itself, and reports it without details", async () => {
    const bug = new TypeError("boom");
    const { cache, fetches } = provider(bug);
    await cache.load();

    expect(fetches).toEqual([{ trigger: "startup", outcome: "error", reason: "failed unexpectedly", error: bug }]);
    expect(cache.status().lastError).toBe("failed unexpectedly");
  });
});
