import { createHmac, createPublicKey, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { AuthenticationFailure, MAX_TOKEN_LENGTH } from "../../../src/auth/access-token";
import type { ProviderKey } from "../../../src/auth/provider-keys/jwks-source";
import { createProviderTokenVerifier } from "../../../src/auth/provider-keys/provider-token-verifier";
import { providerKeyJwt } from "../../support/config";
import { ecKeyPair, nowSeconds, rawToken, rsaKeyPair } from "../../support/tokens";

const ISSUER = "https://login.example.com/realms/todo";
const rsa = rsaKeyPair();
const ec = ecKeyPair();
/** Not published by the provider: rsaKeyPair() keeps one pair per file, so this one is made here. */
const otherRsa = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

/** The provider's keys as the cache would hand them out, counting look-ups. */
function keysOf(entries: ProviderKey[]) {
  const byKid = new Map(entries.map((entry) => [entry.kid, entry]));
  const lookups: string[] = [];
  return {
    lookups,
    async keyFor(kid: string) {
      lookups.push(kid);
      return byKid.get(kid);
    },
  };
}

const keys = keysOf([
  { kid: "rsa-1", key: createPublicKey(rsa.publicKey), algorithms: ["RS256", "PS256"] },
  { kid: "ec-1", key: createPublicKey(ec.publicKey), algorithms: ["ES256"] },
]);
const config = providerKeyJwt({ JWT_USER_CLAIM: "preferred_username" });
const verify = createProviderTokenVerifier(config, keys);

const claims = { iss: ISSUER, aud: "todo-api", sub: "0b1c", preferred_username: "alice" };
function signed(
  privateKey: string,
  kid: string | undefined,
  algorithm: jwt.Algorithm = "RS256",
  overrides: object = {},
): string {
  return jwt.sign({ ...claims, exp: nowSeconds() + 300, ...overrides }, privateKey, {
    algorithm,
    ...(kid === undefined ? {} : { keyid: kid }),
  });
}

async function reasonFor(token: string): Promise<string> {
  try {
    await verify(token);
  } catch (error) {
    if (error instanceof AuthenticationFailure) return error.reason;
    throw error;
  }
  throw new Error("token was accepted");
}

beforeEach(() => keys.lookups.splice(0));

describe("verifying tokens with an identity provider's keys", () => {
  it("accepts an RS256 token signed by a published key and returns the configured claim", async () => {
    const exp = nowSeconds() + 120;
    const user = await verify(signed(rsa.privateKey, "rsa-1", "RS256", { exp }));

    expect(user).toEqual({ id: "alice", tokenExpiresAt: exp * 1000 + 5000 });
    expect(keys.lookups).toEqual(["rsa-1"]);
  });

  it("accepts PS256 with an RSA key and ES256 with an EC key", async () => {
    await expect(verify(signed(rsa.privateKey, "rsa-1", "PS256"))).resolves.toMatchObject({ id: "alice" });
    await expect(verify(signed(ec.privateKey, "ec-1", "ES256"))).resolves.toMatchObject({ id: "alice" });
  });

  it('refuses a kid the provider does not publish with "unknown signing key"', async () => {
    expect(await reasonFor(signed(otherRsa.privateKey, "rotated-away"))).toBe("unknown signing key");
  });

  it("refuses a token signed by another key under a published kid", async () => {
    expect(await reasonFor(signed(otherRsa.privateKey, "rsa-1"))).toBe("invalid signature");
  });

  it("refuses an ES256 token that names an RSA key: each key verifies only its own type", async () => {
    expect(await reasonFor(signed(ec.privateKey, "rsa-1", "ES256"))).toBe("unsupported algorithm");
  });

  it("refuses HS256 signed with the published public key as the secret (algorithm confusion), without a look-up", async () => {
    const unsigned = rawToken({ alg: "HS256", typ: "JWT", kid: "rsa-1" }, { ...claims, exp: nowSeconds() + 60 });
    const input = unsigned.slice(0, -1);
    const forged = `${input}.${createHmac("sha256", rsa.publicKey).update(input).digest("base64url")}`;

    expect(await reasonFor(forged)).toBe("unsupported algorithm");
    expect(keys.lookups).toEqual([]);
  });

  it("refuses alg: none", async () => {
    const token = rawToken({ alg: "none", kid: "rsa-1" }, { ...claims, exp: nowSeconds() + 60 });
    expect(await reasonFor(token)).toBe("unsupported algorithm");
  });

  it.each([
    ["another issuer", { iss: "https://login.example.com/realms/other" }, "wrong issuer"],
    ["no issuer", { iss: undefined }, "wrong issuer"],
    ["another audience", { aud: "billing-api" }, "wrong audience"],
    ["no audience", { aud: undefined }, "wrong audience"],
  ])("refuses a token for %s before looking up any key", async (_case, overrides, reason) => {
    expect(await reasonFor(signed(otherRsa.privateKey, "unknown-kid", "RS256", overrides))).toBe(reason);
    expect(keys.lookups).toEqual([]);
  });

  it("accepts a token whose audiences include ours", async () => {
    await expect(
      verify(signed(rsa.privateKey, "rsa-1", "RS256", { aud: ["account", "todo-api"] })),
    ).resolves.toMatchObject({ id: "alice" });
  });

  it("checks the configured audience claim instead of aud (Amazon Cognito's access tokens)", async () => {
    const cognito = createProviderTokenVerifier(providerKeyJwt({ JWT_AUDIENCE_CLAIM: "client_id" }), keys);
    const accessToken = signed(rsa.privateKey, "rsa-1", "RS256", { aud: undefined, client_id: "todo-api" });
    const idToken = signed(rsa.privateKey, "rsa-1", "RS256", { aud: "todo-api" });

    await expect(cognito(accessToken)).resolves.toMatchObject({ id: "0b1c" });
    await expect(cognito(idToken)).rejects.toMatchObject({ reason: "wrong audience" });
  });

  it("refuses an expired token", async () => {
    expect(await reasonFor(signed(rsa.privateKey, "rsa-1", "RS256", { exp: nowSeconds() - 60 }))).toBe("token expired");
  });

  it("refuses a token without a kid", async () => {
    expect(await reasonFor(signed(rsa.privateKey, undefined))).toBe("missing key id");
  });

  it("refuses a token without the configured claim", async () => {
    expect(await reasonFor(signed(rsa.privateKey, "rsa-1", "RS256", { preferred_username: undefined }))).toBe(
      'missing or invalid "preferred_username" claim',
    );
  });

  it.each([
    ["garbage", "not-a-jwt"],
    ["a JSON string as payload", rawToken({ alg: "RS256", kid: "rsa-1" }, "text" as unknown as object)],
  ])("refuses a malformed token (%s)", async (_case, token) => {
    expect(await reasonFor(token)).toBe("malformed token");
  });

  it("refuses an oversized token and a huge kid without looking them up", async () => {
    const huge = rawToken({ alg: "RS256", kid: "k".repeat(MAX_TOKEN_LENGTH) }, claims, "sig");
    const longKid = rawToken({ alg: "RS256", kid: "k".repeat(300) }, claims, "sig");

    expect(await reasonFor(huge)).toBe("token too large");
    expect(await reasonFor(longKid)).toBe("unknown signing key");
    expect(keys.lookups).toEqual([]);
  });

  it("refuses 2000 seeded garbage tokens with a reason, never another error", async () => {
    let state = 20261201;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value) ?? "").toString("base64url");
    const odd = [null, 0, -1, "", "RS256", ["RS256"], { alg: "RS256" }, true, "rsa-1", ISSUER, "todo-api", [ISSUER]];
    const reasons = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const header = { alg: pick([...odd, "HS256", "none", "ES256", "PS256"]), kid: pick([...odd, "rsa-1", "ec-1"]) };
      const payload = pick([
        null,
        [],
        "text",
        { ...claims, iss: pick(odd), aud: pick(odd), exp: pick([...odd, nowSeconds() + 60]) },
        { ...claims, preferred_username: pick(odd), exp: nowSeconds() + 60 },
      ]);
      const signature = Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => random() * 256)).toString(
        "base64url",
      );
      reasons.add(await reasonFor(`${encode(header)}.${encode(payload)}.${signature}`));
    }
    expect(reasons.size).toBeGreaterThan(3);
  });
});
