/**
 * The provider's keys over time, against a real Keycloak: rotation while the
 * API runs, a flood of tokens naming keys nobody published, and Keycloak
 * going down. JWKS fetches are counted twice: by the API's metric and in
 * Keycloak's own access log. The last group stops Keycloak, so it runs last.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { KEYCLOAK_START_TIMEOUT_MS, startKeycloak, type Keycloak } from "../stack/keycloak";
import { openSocket } from "../support/graphql-ws-client";
import {
  startApiWithProvider,
  tokenWithUnknownKid,
  unauthenticated,
  type ApiWithProvider,
} from "./support/api-with-provider";
import { accessToken, KeycloakAdmin, kidOf } from "./support/keycloak-client";

const REALM = "todo";
const SERVICE_ACCOUNT = "service-account-todo-api-tests";
/**
 * Keycloak answers its JWKS with no-cache: the API keeps it for the minimum, set short here to see a
 * removal. The first rotation test counts fetches, so it must end within this time of the API's start
 * (it takes about 3 s), or a refresh of the aged set would add to the count.
 */
const CACHE_SECONDS = 15;

let keycloak: Keycloak;
beforeAll(async () => {
  keycloak = await startKeycloak([join(__dirname, "realms", "todo-realm.json")]);
}, KEYCLOAK_START_TIMEOUT_MS);
afterAll(async () => {
  await keycloak?.dispose();
});

/** Fetches counted by the API and by Keycloak since the last call. */
function fetchCounter(api: ApiWithProvider) {
  let api0 = 0;
  let provider0 = 0;
  const counter = {
    async reset() {
      api0 = await api.jwksFetches();
      provider0 = keycloak.jwksRequests(REALM);
    },
    async since() {
      // Keycloak writes its access log line as it answers; give it a moment to reach the file.
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { api: (await api.jwksFetches()) - api0, provider: keycloak.jwksRequests(REALM) - provider0 };
    },
  };
  return counter;
}

const randomKid = () => randomBytes(32).toString("base64url");

describe("key rotation while the API runs", () => {
  let api: ApiWithProvider;
  const admin = () => new KeycloakAdmin(keycloak);
  let oldToken: string;
  let oldKeyProvider: string;

  beforeAll(async () => {
    api = await startApiWithProvider(keycloak, {
      JWT_JWKS_CACHE_MIN_SECONDS: String(CACHE_SECONDS),
      JWT_JWKS_CACHE_MAX_SECONDS: String(CACHE_SECONDS),
      JWT_USER_CLAIM: "preferred_username",
    });
    oldToken = await accessToken(keycloak);
    const [key] = await admin().rsaKeys();
    oldKeyProvider = key.providerId;
    expect(kidOf(oldToken)).toBe(key.kid);
  });
  afterAll(() => api?.stop());

  it("accepts new tokens at once after a new key becomes active, with one refetch, and old tokens still", async () => {
    const fetches = fetchCounter(api);
    expect(await api.meOverHttp(oldToken)).toEqual({ id: SERVICE_ACCOUNT });
    await fetches.reset();

    const added = await admin().addActiveRsaKey("rotated-in");
    const newToken = await accessToken(keycloak);
    expect(kidOf(newToken)).toBe(added.kid);
    expect(added.kid).not.toBe(kidOf(oldToken));

    expect(await api.meOverHttp(newToken)).toEqual({ id: SERVICE_ACCOUNT });
    expect(await api.meOverSocket(newToken)).toEqual({ id: SERVICE_ACCOUNT });
    expect(await api.meOverHttp(oldToken)).toEqual({ id: SERVICE_ACCOUNT });
    expect(await api.meOverSocket(oldToken)).toEqual({ id: SERVICE_ACCOUNT });
    for (let i = 0; i < 20; i++)
      expect(await api.meOverHttp(await accessToken(keycloak))).toEqual({ id: SERVICE_ACCOUNT });

    const counted = await fetches.since();
    process.stderr.write(
      `[auth] rotation, new key active: JWKS fetches api=${counted.api} keycloak=${counted.provider}\n`,
    );
    expect(counted).toEqual({ api: 1, provider: 1 });
    expect(await api.jwksFetches({ trigger: "unknown_kid" })).toBe(1);
  });

  it("refuses old tokens once the old key is removed and the cached set has aged, new ones still working", async () => {
    const socketWithOldToken = openSocket(api.server.origin, `Bearer ${oldToken}`);
    await socketWithOldToken.connected;
    await admin().removeKeyProvider(oldKeyProvider);
    expect((await admin().rsaKeys()).map((key) => key.kid)).not.toContain(kidOf(oldToken));
    const removedAt = Date.now();

    let answer = await api.meOverHttp(oldToken);
    while ("id" in answer && Date.now() - removedAt < (CACHE_SECONDS + 15) * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      answer = await api.meOverHttp(oldToken);
    }
    process.stderr.write(`[auth] rotation: old token refused ${Date.now() - removedAt} ms after its key's removal\n`);

    expect(answer).toEqual(unauthenticated("unknown signing key"));
    expect(await api.meOverSocket(oldToken)).toEqual({ closeCode: 4403 });
    expect(await api.meOverHttp(await accessToken(keycloak))).toEqual({ id: SERVICE_ACCOUNT });
    expect(await api.meOverSocket(await accessToken(keycloak))).toEqual({ id: SERVICE_ACCOUNT });
    // A socket is verified when it connects: one opened before the removal lives on until its token expires.
    await socketWithOldToken.dispose();
  });
});

describe("a flood of tokens naming unknown keys", () => {
  it("over HTTP: 1000 tokens with random kids in a few seconds cause one JWKS fetch, and are all refused", async () => {
    const api = await startApiWithProvider(keycloak);
    try {
      const valid = await accessToken(keycloak);
      expect(await api.meOverHttp(valid)).toMatchObject({ id: expect.any(String) });
      const fetches = fetchCounter(api);
      await fetches.reset();

      const flood = Array.from({ length: 1000 }, () => tokenWithUnknownKid(keycloak.issuer(REALM), randomKid()));
      const started = performance.now();
      const answers = await inBatches(flood, 50, (token) => api.meOverHttp(token));
      const elapsedMs = Math.round(performance.now() - started);
      const counted = await fetches.since();
      process.stderr.write(
        `[auth] flood over HTTP: 1000 tokens in ${elapsedMs} ms; JWKS fetches api=${counted.api} keycloak=${counted.provider}\n`,
      );

      expect(new Set(answers.map((answer) => JSON.stringify(answer)))).toEqual(
        new Set([JSON.stringify(unauthenticated("unknown signing key"))]),
      );
      // Well within one cooldown (30 s), so one fetch is the most the API may make.
      expect(elapsedMs).toBeLessThan(20_000);
      expect(counted.api).toBe(1);
      expect(counted.provider).toBeGreaterThanOrEqual(1);
      expect(counted.provider).toBeLessThanOrEqual(2);
      expect(await api.meOverHttp(valid)).toMatchObject({ id: expect.any(String) });
    } finally {
      await api.stop();
    }
  });

  it("over the WebSocket: 300 sockets with random kids cause one JWKS fetch, and are all closed with 4403", async () => {
    const api = await startApiWithProvider(keycloak);
    try {
      const fetches = fetchCounter(api);
      await fetches.reset();

      const flood = Array.from({ length: 300 }, () => tokenWithUnknownKid(keycloak.issuer(REALM), randomKid()));
      const answers = await inBatches(flood, 30, (token) => api.meOverSocket(token));
      const counted = await fetches.since();
      process.stderr.write(
        `[auth] flood over the WebSocket: JWKS fetches api=${counted.api} keycloak=${counted.provider}\n`,
      );

      expect(answers.every((answer) => "closeCode" in answer && answer.closeCode === 4403)).toBe(true);
      expect(counted).toEqual({ api: 1, provider: 1 });
      expect(await api.meOverSocket(await accessToken(keycloak))).toMatchObject({ id: expect.any(String) });
    } finally {
      await api.stop();
    }
  });
});

// Stops Keycloak: keep this group last.
describe("Keycloak down", () => {
  let api: ApiWithProvider;
  let cached: string;

  beforeAll(async () => {
    // Cache bounds of a second: by the time Keycloak is gone the keys are past their age.
    api = await startApiWithProvider(keycloak, { JWT_JWKS_CACHE_MIN_SECONDS: "1", JWT_JWKS_CACHE_MAX_SECONDS: "1" });
    cached = await accessToken(keycloak);
    expect(await api.meOverHttp(cached)).toMatchObject({ id: expect.any(String) });
    await keycloak.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
  afterAll(() => api?.stop());

  it("keeps accepting tokens signed with cached keys, past the keys' age, on both transports", async () => {
    expect(await api.meOverHttp(cached)).toMatchObject({ id: expect.any(String) });
    expect(await api.meOverSocket(cached)).toMatchObject({ id: expect.any(String) });
    // The background refresh that the first of these started has failed by now; the keys stay.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await api.meOverHttp(cached)).toMatchObject({ id: expect.any(String) });
  });

  it("reports on /readyz that the last refresh failed, and stays ready", async () => {
    expect(await api.readiness()).toEqual({
      status: 200,
      signingKeys: expect.objectContaining({
        keys: "loaded",
        lastRefresh: "failed",
        lastError: "unreachable (ECONNREFUSED)",
      }),
    });
  });

  it("refuses unknown kids fast, over HTTP and the WebSocket, asking the absent provider at most once", async () => {
    const before = await api.jwksFetches({ outcome: "error" });
    const started = performance.now();
    const overHttp = await inBatches(
      Array.from({ length: 200 }, () => tokenWithUnknownKid(keycloak.issuer(REALM), randomKid())),
      50,
      (token) => api.meOverHttp(token),
    );
    const httpMs = performance.now() - started;
    const overSocket = await api.meOverSocket(tokenWithUnknownKid(keycloak.issuer(REALM), randomKid()));
    const failedFetches = (await api.jwksFetches({ outcome: "error" })) - before;
    process.stderr.write(
      `[auth] Keycloak down: 200 unknown kids refused in ${Math.round(httpMs)} ms; failed fetches ${failedFetches}\n`,
    );

    expect(
      overHttp.every((answer) => JSON.stringify(answer) === JSON.stringify(unauthenticated("unknown signing key"))),
    ).toBe(true);
    expect(overSocket).toEqual({ closeCode: 4403 });
    expect(httpMs).toBeLessThan(5000);
    expect(failedFetches).toBeLessThanOrEqual(1);
  });
});

/** Runs `task` over `items`, `size` at a time, keeping the answers in order. */
async function inBatches<T, R>(items: readonly T[], size: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const answers: R[] = [];
  for (let i = 0; i < items.length; i += size) answers.push(...(await Promise.all(items.slice(i, i + size).map(task))));
  return answers;
}
