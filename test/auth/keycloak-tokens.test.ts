/**
 * Tokens from a real Keycloak, verified with the keys it publishes (OIDC
 * discovery, then its JWKS), over HTTP and the WebSocket alike.
 */
import { join } from "node:path";
import { KEYCLOAK_START_TIMEOUT_MS, startKeycloak, type Keycloak } from "../stack/keycloak";
import { openSocket } from "../support/graphql-ws-client";
import { startApiWithProvider, unauthenticated, type ApiWithProvider } from "./support/api-with-provider";
import { accessToken, ALICE, CLIENTS, kidOf } from "./support/keycloak-client";

const REALMS = join(__dirname, "realms");
const SERVICE_ACCOUNT = `service-account-${CLIENTS.tests.id}`;

let keycloak: Keycloak;
let api: ApiWithProvider;

beforeAll(async () => {
  keycloak = await startKeycloak([join(REALMS, "todo-realm.json"), join(REALMS, "other-realm.json")]);
  // No clock tolerance: the short-lived client's tokens expire when their `exp` says.
  api = await startApiWithProvider(keycloak, {
    JWT_USER_CLAIM: "preferred_username",
    JWT_CLOCK_TOLERANCE_SECONDS: "0",
  });
}, KEYCLOAK_START_TIMEOUT_MS);

afterAll(async () => {
  await api?.stop();
  await keycloak?.dispose();
});

describe("tokens from Keycloak over HTTP", () => {
  it("accepts a client-credentials token; me is the configured claim (the service account's username)", async () => {
    expect(await api.meOverHttp(await accessToken(keycloak))).toEqual({ id: SERVICE_ACCOUNT });
  });

  it("accepts a user's token from the password grant; me is the user's username", async () => {
    expect(await api.meOverHttp(await accessToken(keycloak, { user: ALICE }))).toEqual({ id: "alice" });
  });

  it("accepts ES256 and PS256 tokens, signed with keys Keycloak creates on first use", async () => {
    const es256 = await accessToken(keycloak, { client: CLIENTS.es256 });
    const ps256 = await accessToken(keycloak, { client: CLIENTS.ps256 });

    expect(await api.meOverHttp(es256)).toEqual({ id: `service-account-${CLIENTS.es256.id}` });
    expect(await api.meOverHttp(ps256)).toEqual({ id: `service-account-${CLIENTS.ps256.id}` });
    expect(new Set([kidOf(es256), kidOf(ps256), kidOf(await accessToken(keycloak))]).size).toBe(3);
  });

  it("refuses a token Keycloak issued to another application of the realm", async () => {
    expect(await api.meOverHttp(await accessToken(keycloak, { client: CLIENTS.billing }))).toEqual(
      unauthenticated("wrong audience"),
    );
  });

  it("refuses a token whose issuer is not the configured one, though signed with the realm's key", async () => {
    // Asked at localhost, Keycloak (dev mode) names http://localhost:<port>/realms/todo as the issuer.
    const token = await accessToken(keycloak, { origin: keycloak.origin.replace("127.0.0.1", "localhost") });

    expect(await api.meOverHttp(token)).toEqual(unauthenticated("wrong issuer"));
  });

  it("refuses a token from another realm of the same Keycloak", async () => {
    expect(await api.meOverHttp(await accessToken(keycloak, { realm: "other" }))).toEqual(
      unauthenticated("wrong issuer"),
    );
  });

  it("refuses a token once it has expired", async () => {
    const token = await accessToken(keycloak, { client: CLIENTS.shortLived });
    expect(await api.meOverHttp(token)).toEqual({ id: `service-account-${CLIENTS.shortLived.id}` });
    await expiryOf(token);

    expect(await api.meOverHttp(token)).toEqual(unauthenticated("token expired"));
  });
});

describe("tokens from Keycloak over the WebSocket", () => {
  it("accepts a client-credentials token and a user's token", async () => {
    expect(await api.meOverSocket(await accessToken(keycloak))).toEqual({ id: SERVICE_ACCOUNT });
    expect(await api.meOverSocket(await accessToken(keycloak, { user: ALICE }))).toEqual({ id: "alice" });
  });

  it("accepts ES256 and PS256 tokens", async () => {
    expect(await api.meOverSocket(await accessToken(keycloak, { client: CLIENTS.es256 }))).toEqual({
      id: `service-account-${CLIENTS.es256.id}`,
    });
    expect(await api.meOverSocket(await accessToken(keycloak, { client: CLIENTS.ps256 }))).toEqual({
      id: `service-account-${CLIENTS.ps256.id}`,
    });
  });

  it("closes the socket with 4403 for another application's, another issuer's and another realm's token", async () => {
    const tokens = [
      await accessToken(keycloak, { client: CLIENTS.billing }),
      await accessToken(keycloak, { origin: keycloak.origin.replace("127.0.0.1", "localhost") }),
      await accessToken(keycloak, { realm: "other" }),
    ];
    for (const token of tokens) expect(await api.meOverSocket(token)).toEqual({ closeCode: 4403 });
  });

  it("closes a socket when its token expires, and refuses the expired token afterwards", async () => {
    const token = await accessToken(keycloak, { client: CLIENTS.shortLived });
    const socket = openSocket(api.server.origin, `Bearer ${token}`);
    try {
      await socket.connected;
      const closed = await socket.closed;

      expect(closed.code).toBe(4403);
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAtMs(token));
    } finally {
      await socket.dispose();
    }
    expect(await api.meOverSocket(token)).toEqual({ closeCode: 4403 });
  });
});

describe("configuration against Keycloak", () => {
  it("uses sub as the user id by default", async () => {
    const bySub = await startApiWithProvider(keycloak);
    try {
      const token = await accessToken(keycloak, { user: ALICE });
      const { sub } = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as { sub: string };

      expect(sub).toMatch(/^[0-9a-f-]{36}$/);
      expect(await bySub.meOverHttp(token)).toEqual({ id: sub });
    } finally {
      await bySub.stop();
    }
  });

  it("verifies with JWT_JWKS_URI and JWT_ISSUER, without discovery", async () => {
    const direct = await startApiWithProvider(keycloak, {
      OIDC_ISSUER: undefined,
      JWT_JWKS_URI: `${keycloak.issuer("todo")}/protocol/openid-connect/certs`,
      JWT_ISSUER: keycloak.issuer("todo"),
    });
    try {
      expect(await direct.meOverHttp(await accessToken(keycloak))).toMatchObject({ id: expect.any(String) });
      expect(await direct.meOverHttp(await accessToken(keycloak, { realm: "other" }))).toEqual(
        unauthenticated("wrong issuer"),
      );
    } finally {
      await direct.stop();
    }
  });

  it("refuses to start when OIDC_ISSUER is not exactly the issuer Keycloak announces", async () => {
    await expect(startApiWithProvider(keycloak, { OIDC_ISSUER: `${keycloak.issuer("todo")}/` })).rejects.toThrow(
      /OIDC_ISSUER must be exactly the issuer the provider announces/,
    );
  });

  it("reports the loaded keys on /readyz", async () => {
    expect(await api.readiness()).toEqual({
      status: 200,
      signingKeys: expect.objectContaining({ keys: "loaded", lastRefresh: "ok" }),
    });
  });
});

function expiresAtMs(token: string): number {
  const { exp } = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as { exp: number };
  return exp * 1000;
}

async function expiryOf(token: string): Promise<void> {
  const wait = expiresAtMs(token) - Date.now() + 50;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
