/**
 * Fetching an identity provider's keys and discovery document over real HTTP,
 * with answers a provider would rarely give on purpose: slow, broken, huge.
 * The auth tier (npm run test:auth) does the same against a real Keycloak.
 */
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { FetchFailure } from "../../../src/auth/provider-keys/http-json";
import { jwksSource } from "../../../src/auth/provider-keys/jwks-source";
import { discoverProvider } from "../../../src/auth/provider-keys/oidc-discovery";
import { ConfigError } from "../../../src/config/config";
import { json, startJsonEndpoints, type Answer, type JsonEndpoints } from "../../support/json-endpoints";
import { startTestServer } from "../../support/test-server";
import { ecKeyPair, rsaKeyPair } from "../../support/tokens";

const jwk = (publicKeyPem: string, extra: object): JsonWebKey => ({
  ...createPublicKey(publicKeyPem).export({ format: "jwk" }),
  ...extra,
});
const p384 = generateKeyPairSync("ec", {
  namedCurve: "P-384",
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

const publishedKeys = [
  jwk(rsaKeyPair().publicKey, { kid: "rsa-sig", alg: "RS256", use: "sig" }),
  jwk(ecKeyPair().publicKey, { kid: "ec-p256" }),
  jwk(rsaKeyPair().publicKey, { kid: "rsa-enc", alg: "RSA-OAEP", use: "enc" }),
  jwk(rsaKeyPair().publicKey, { alg: "RS256", use: "sig" }),
  jwk(p384.publicKey, { kid: "ec-p384" }),
  jwk(rsaKeyPair().publicKey, { kid: "rsa-rs512", alg: "RS512" }),
];

let endpoints: JsonEndpoints;
beforeAll(async () => {
  endpoints = await startJsonEndpoints();
});
afterAll(() => endpoints.close());

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FetchFailure) return error.reason;
    throw error;
  }
  throw new Error("the fetch succeeded");
}

function status(code: number): Answer {
  return (_request, response) => response.writeHead(code).end();
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("reading a JWKS", () => {
  const source = (path: string, timeoutMs = 2000) =>
    jwksSource({ jwksUri: `${endpoints.origin}${path}`, algorithms: ["RS256", "ES256", "PS256"], timeoutMs });

  it("keeps the signing keys with a kid, each pinned to what its type and alg allow, and reads max-age", async () => {
    endpoints.answer("/keys", json({ keys: publishedKeys }, { "cache-control": "public, max-age=300" }));

    const { keys, maxAgeMs } = await source("/keys")();

    expect(Object.fromEntries([...keys].map(([kid, key]) => [kid, key.algorithms]))).toEqual({
      "rsa-sig": ["RS256"],
      "ec-p256": ["ES256"],
    });
    expect(maxAgeMs).toBe(300_000);
  });

  it("pins keys to the configured algorithms too", async () => {
    endpoints.answer("/keys", json({ keys: publishedKeys }));
    const rsaOnly = jwksSource({ jwksUri: `${endpoints.origin}/keys`, algorithms: ["RS256"], timeoutMs: 2000 });

    expect([...(await rsaOnly()).keys.keys()]).toEqual(["rsa-sig"]);
  });

  it.each([
    ["no-cache", "no-cache", 0],
    ["no-store", "private, no-store", 0],
    ["no header", undefined, undefined],
  ])("reads Cache-Control %s", async (_case, header, maxAgeMs) => {
    endpoints.answer("/keys", json({ keys: publishedKeys }, header === undefined ? {} : { "cache-control": header }));
    expect((await source("/keys")()).maxAgeMs).toBe(maxAgeMs);
  });

  it.each([
    ["an HTTP error", status(503), "answered HTTP 503"],
    [
      "a body that is not JSON",
      (_request, response) => response.writeHead(200).end("<html>"),
      "answered with something that is not JSON",
    ],
    ["no keys array", json({ keys: "none" }), "answered a document without a keys array"],
    ["an empty key set", json({ keys: [] }), /^answered no usable signing key/],
    ["only encryption keys", json({ keys: [publishedKeys[2]] }), /^answered no usable signing key/],
    ["only keys for other algorithms", json({ keys: [publishedKeys[4]] }), "answered no key for RS256, ES256, PS256"],
    [
      "more than 512 KiB",
      json({ keys: publishedKeys, padding: "x".repeat(600 * 1024) }),
      "answered more than 524288 bytes",
    ],
  ] as [string, Answer, string | RegExp][])("fails with a short reason on %s", async (_case, answer, reason) => {
    endpoints.answer("/broken", answer);
    expect(await failureOf(source("/broken")())).toMatch(reason);
  });

  it("gives up on a provider that does not answer within the timeout", async () => {
    endpoints.answer("/hangs", () => undefined);
    const started = performance.now();

    expect(await failureOf(source("/hangs", 300)())).toBe("timed out after 300 ms");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("gives up on a provider that stops sending halfway", async () => {
    endpoints.answer("/trickles", (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"keys": [');
    });
    expect(await failureOf(source("/trickles", 300)())).toBe("timed out after 300 ms");
  });

  it("names the reason fetch gives for a port it refuses to use", async () => {
    const blocked = jwksSource({ jwksUri: "http://127.0.0.1:6000/keys", algorithms: ["RS256"], timeoutMs: 2000 });

    expect(await failureOf(blocked())).toBe("unreachable (bad port)");
  });

  it("reports a provider that is not listening", async () => {
    const port = await closedPort();
    const closed = jwksSource({ jwksUri: `http://127.0.0.1:${port}/keys`, algorithms: ["RS256"], timeoutMs: 2000 });

    expect(await failureOf(closed())).toBe("unreachable (ECONNREFUSED)");
  });
});

describe("OIDC discovery", () => {
  async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error("discovery succeeded");
  }

  it("reads jwks_uri from the issuer's document", async () => {
    const issuer = `${endpoints.origin}/realms/a`;
    endpoints.answer(
      "/realms/a/.well-known/openid-configuration",
      json({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }),
    );

    await expect(discoverProvider(issuer, 2000)).resolves.toEqual({
      issuer,
      jwksUri: `${issuer}/protocol/openid-connect/certs`,
    });
  });

  it("finds the document of an issuer that ends in a slash", async () => {
    const issuer = `${endpoints.origin}/tenant/`;
    endpoints.answer("/tenant/.well-known/openid-configuration", json({ issuer, jwks_uri: `${issuer}keys` }));

    await expect(discoverProvider(issuer, 2000)).resolves.toMatchObject({ jwksUri: `${issuer}keys` });
  });

  it("refuses a document that names another issuer, saying which one it names", async () => {
    const issuer = `${endpoints.origin}/realms/b`;
    endpoints.answer(
      "/realms/b/.well-known/openid-configuration",
      json({ issuer: "https://attacker.example.com", jwks_uri: `${issuer}/certs` }),
    );

    const error = await configErrorOf(discoverProvider(issuer, 2000));
    expect(error.variable).toBe("OIDC_ISSUER");
    expect(error.message).toMatch(/must be exactly the issuer the provider announces: .* says "https:\/\/attacker/);
  });

  it("refuses a document without a jwks_uri", async () => {
    const issuer = `${endpoints.origin}/realms/c`;
    endpoints.answer("/realms/c/.well-known/openid-configuration", json({ issuer }));

    expect((await configErrorOf(discoverProvider(issuer, 2000))).message).toMatch(/has no http\(s\) jwks_uri/);
  });

  it("names OIDC_ISSUER and the reason when the issuer cannot be reached", async () => {
    const port = await closedPort();
    const error = await configErrorOf(discoverProvider(`http://127.0.0.1:${port}/realms/d`, 2000));

    expect(error.variable).toBe("OIDC_ISSUER");
    expect(error.message).toMatch(/discovery failed: .*\/realms\/d\/\.well-known\/openid-configuration unreachable/);
  });
});

describe("the API with an identity provider", () => {
  it("refuses to start when discovery fails, before opening anything", async () => {
    const issuer = `${endpoints.origin}/realms/missing`;

    await expect(
      startTestServer({ env: { JWT_SECRET: undefined, OIDC_ISSUER: issuer, JWT_AUDIENCE: "todo-api" } }),
    ).rejects.toThrow(/OIDC_ISSUER discovery failed: .* answered HTTP 404/);
  });

  it("starts without keys when the JWKS cannot be read, and /readyz says so while staying ready", async () => {
    endpoints.answer("/down/keys", status(503));
    const server = await startTestServer({
      env: {
        JWT_SECRET: undefined,
        JWT_JWKS_URI: `${endpoints.origin}/down/keys`,
        JWT_ISSUER: "https://login.example.com",
        JWT_AUDIENCE: "todo-api",
      },
    });
    try {
      const response = await fetch(`${server.origin}/readyz`);
      const body = (await response.json()) as { checks: { signingKeys: unknown } };

      expect(response.status).toBe(200);
      expect(body.checks.signingKeys).toMatchObject({
        keys: "not-loaded",
        count: 0,
        lastRefresh: "failed",
        lastError: "answered HTTP 503",
      });
    } finally {
      await server.stop();
    }
  });
});
