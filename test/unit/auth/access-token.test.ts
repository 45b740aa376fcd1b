import { createHmac } from "node:crypto";
import jwt from "jsonwebtoken";
import { AuthenticationFailure, createAccessTokenVerifier, MAX_TOKEN_LENGTH } from "../../../src/auth/access-token";
import { bearerTokenFrom } from "../../../src/auth/bearer-token";
import { localKeyJwt } from "../../support/config";
import { ecKeyPair, hsToken, nowSeconds, rawToken, rsaKeyPair, TEST_JWT_SECRET } from "../../support/tokens";

function reasonFor(verify: (token: string) => unknown, token: string): string {
  try {
    verify(token);
  } catch (error) {
    if (error instanceof AuthenticationFailure) return error.reason;
    throw error;
  }
  throw new Error("token was accepted");
}

describe("verifyAccessToken with HS256", () => {
  const verify = createAccessTokenVerifier(
    localKeyJwt({ JWT_ISSUER: "https://issuer.test", JWT_AUDIENCE: "todo-api" }),
  );
  const valid = { issuer: "https://issuer.test", audience: "todo-api" };

  it("accepts a valid token and returns the subject as the user id", () => {
    expect(verify(hsToken({ sub: "user-456" }, valid))).toMatchObject({ id: "user-456" });
  });

  it("rejects an expired token", () => {
    expect(reasonFor(verify, hsToken({ sub: "u", exp: nowSeconds() - 60 }, valid))).toBe("token expired");
  });

  it("reports when the token stops being accepted (exp plus the clock tolerance), so long-lived connections close then", () => {
    const exp = nowSeconds() + 120;
    expect(verify(hsToken({ sub: "u", exp }, valid)).tokenExpiresAt).toBe(exp * 1000 + 5000);
  });

  it("rejects a token without an expiry by default", () => {
    const token = jwt.sign({ sub: "u" }, TEST_JWT_SECRET, { algorithm: "HS256", ...valid });
    expect(reasonFor(verify, token)).toBe("token has no expiry");
  });

  it("accepts a token without an expiry when JWT_REQUIRE_EXP=false", () => {
    const lenient = createAccessTokenVerifier(localKeyJwt({ JWT_REQUIRE_EXP: "false" }));
    const token = jwt.sign({ sub: "u" }, TEST_JWT_SECRET, { algorithm: "HS256" });
    expect(lenient(token)).toEqual({ id: "u" });
  });

  it("rejects a token issued in the future beyond the clock tolerance", () => {
    expect(reasonFor(verify, hsToken({ sub: "u", iat: nowSeconds() + 365 * 24 * 3600 }, valid))).toBe(
      "token issued in the future",
    );
  });

  it("accepts a token issued a little in the future, within the clock tolerance", () => {
    expect(verify(hsToken({ sub: "u", iat: nowSeconds() + 2 }, valid))).toMatchObject({ id: "u" });
  });

  it("tolerates a few seconds of clock skew", () => {
    expect(verify(hsToken({ sub: "u", exp: nowSeconds() - 2 }, valid))).toMatchObject({ id: "u" });
  });

  it("rejects a token that is not yet valid", () => {
    expect(reasonFor(verify, hsToken({ sub: "u", nbf: nowSeconds() + 600 }, valid))).toBe("token not yet valid");
  });

  it("rejects a token signed with another secret", () => {
    expect(reasonFor(verify, hsToken({ sub: "u" }, valid, "another-secret-that-is-32-bytes-long!!"))).toBe(
      "invalid signature",
    );
  });

  it("rejects alg: none", () => {
    const token = rawToken(
      { alg: "none", typ: "JWT" },
      { sub: "u", iss: valid.issuer, aud: valid.audience, exp: nowSeconds() + 60 },
    );
    expect(reasonFor(verify, token)).toBe("unsupported algorithm");
  });

  it("rejects a token from another issuer", () => {
    expect(reasonFor(verify, hsToken({ sub: "u" }, { ...valid, issuer: "https://evil.test" }))).toBe("wrong issuer");
  });

  it("rejects a token for another audience", () => {
    expect(reasonFor(verify, hsToken({ sub: "u" }, { ...valid, audience: "other-api" }))).toBe("wrong audience");
  });

  it("rejects a token without a subject", () => {
    expect(reasonFor(verify, hsToken({ name: "no subject" }, valid))).toBe('missing or invalid "sub" claim');
  });

  it.each([
    ["a number", 42],
    ["an object", { id: "user-456" }],
    ["an empty string", ""],
  ])("rejects sub as %s", (_case, sub) => {
    // jsonwebtoken refuses to sign a non-string sub, so the token is signed by hand.
    const unsigned = rawToken(
      { alg: "HS256", typ: "JWT" },
      { sub, iss: valid.issuer, aud: valid.audience, exp: nowSeconds() + 60 },
    );
    const signingInput = unsigned.slice(0, -1);
    const signature = createHmac("sha256", TEST_JWT_SECRET).update(signingInput).digest("base64url");
    expect(reasonFor(verify, `${signingInput}.${signature}`)).toBe('missing or invalid "sub" claim');
  });

  it("rejects a subject with control characters", () => {
    expect(reasonFor(verify, hsToken({ sub: "user\n456" }, valid))).toBe('invalid "sub" claim');
  });

  it.each([
    ["garbage", "not-a-jwt"],
    ["two segments", "abc.def"],
    ["a non-JSON header", "bm90IGpzb24.eyJzdWIiOiJ1In0.sig"],
  ])("rejects a malformed token (%s)", (_case, token) => {
    expect(reasonFor(verify, token)).toBe("malformed token");
  });

  it("rejects an oversized token before parsing it", () => {
    const token = rawToken({ alg: "HS256", typ: "JWT", kid: "k".repeat(MAX_TOKEN_LENGTH) }, { sub: "u" }, "sig");
    expect(reasonFor(verify, token)).toBe("token too large");
  });
});

describe("verifyAccessToken with a public key", () => {
  const { publicKey, privateKey } = rsaKeyPair();
  const verify = createAccessTokenVerifier(localKeyJwt({ JWT_SECRET: undefined, JWT_PUBLIC_KEY: publicKey }));

  it("accepts an RS256 token signed with the private key", () => {
    expect(verify(jwt.sign({ sub: "user-456" }, privateKey, { algorithm: "RS256", expiresIn: "5m" }))).toMatchObject({
      id: "user-456",
    });
  });

  it("rejects an HS256 token whose secret is the RSA public key (algorithm confusion)", () => {
    const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ sub: "attacker", exp: nowSeconds() + 60 })).toString("base64url");
    const signature = createHmac("sha256", publicKey).update(`${header}.${payload}`).digest("base64url");
    expect(reasonFor(verify, `${header}.${payload}.${signature}`)).toBe("unsupported algorithm");
  });

  it("accepts ES256 when the configured key is an EC key", () => {
    const ec = ecKeyPair();
    const verifyEc = createAccessTokenVerifier(
      localKeyJwt({ JWT_SECRET: undefined, JWT_PUBLIC_KEY: ec.publicKey, JWT_ALGORITHMS: "ES256" }),
    );
    expect(
      verifyEc(jwt.sign({ sub: "user-ec" }, ec.privateKey, { algorithm: "ES256", expiresIn: "5m" })),
    ).toMatchObject({ id: "user-ec" });
  });
});

describe("a configured user claim", () => {
  it("reads the user id from that claim instead of sub", () => {
    const verify = createAccessTokenVerifier(localKeyJwt({ JWT_USER_CLAIM: "uid" }));
    expect(verify(hsToken({ sub: "ignored", uid: "user-from-uid" }))).toMatchObject({ id: "user-from-uid" });
  });
});

describe("bearerTokenFrom", () => {
  it("returns undefined when there is no header (an anonymous request)", () => {
    expect(bearerTokenFrom(undefined)).toBeUndefined();
  });

  it("extracts the token, case-insensitively on the scheme", () => {
    expect(bearerTokenFrom("bearer abc.def.ghi")).toBe("abc.def.ghi");
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "abc.def.ghi"])("rejects %j", (header) => {
    expect(() => bearerTokenFrom(header)).toThrow(AuthenticationFailure);
  });
});
