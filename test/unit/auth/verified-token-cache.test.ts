import { AuthenticationFailure, type AuthenticatedUser } from "../../../src/auth/access-token";
import { cacheVerifiedTokens } from "../../../src/auth/verified-token-cache";

describe("cacheVerifiedTokens", () => {
  let clock: number;
  let calls: string[];
  const now = (): number => clock;
  const options = { maxBytes: 10_000, maxAgeMs: 60_000, now };

  beforeEach(() => {
    clock = 1_000_000;
    calls = [];
  });

  /** Verifies "good-<user>" tokens (expiring at `expiresAt`), refuses every other one. */
  const verifier =
    (expiresAt?: number) =>
    (token: string): AuthenticatedUser => {
      calls.push(token);
      if (!token.startsWith("good-")) throw new AuthenticationFailure("invalid signature");
      return { id: token.slice(5), ...(expiresAt === undefined ? {} : { tokenExpiresAt: expiresAt }) };
    };

  it("verifies a token once and answers the same user from memory afterwards", () => {
    const verify = cacheVerifiedTokens(verifier(), options).verify;
    expect(verify("good-alice")).toEqual({ id: "alice" });
    expect(verify("good-alice")).toEqual({ id: "alice" });
    expect(verify("good-bob")).toEqual({ id: "bob" });
    expect(calls).toEqual(["good-alice", "good-bob"]);
  });

  it("never remembers a failure: every bad token is checked and refused again", () => {
    const verify = cacheVerifiedTokens(verifier(), options).verify;
    expect(() => verify("forged")).toThrow(AuthenticationFailure);
    expect(() => verify("forged")).toThrow(AuthenticationFailure);
    expect(calls).toEqual(["forged", "forged"]);
  });

  it("stops answering from memory once the token has expired, and verifies it again", () => {
    const expiresAt = clock + 5_000;
    let verifyAgain = verifier(expiresAt);
    const verify = cacheVerifiedTokens((token) => verifyAgain(token), options).verify;
    verify("good-alice");
    clock = expiresAt;
    verifyAgain = () => {
      calls.push("expired check");
      throw new AuthenticationFailure("token expired");
    };
    expect(() => verify("good-alice")).toThrow("token expired");
    expect(calls).toEqual(["good-alice", "expired check"]);
  });

  it("trusts a verification for at most maxAgeMs, even for a token that lives longer", () => {
    const verify = cacheVerifiedTokens(verifier(clock + 3_600_000), options).verify;
    verify("good-alice");
    clock += 59_999;
    verify("good-alice");
    expect(calls).toHaveLength(1);
    clock += 1;
    verify("good-alice");
    expect(calls).toHaveLength(2);
  });

  it("keeps within its byte budget by forgetting the least recently used tokens", () => {
    // Each entry counts its length plus 256: three 244-character tokens fill 1500 bytes.
    const verify = cacheVerifiedTokens(verifier(), { ...options, maxBytes: 1_500 }).verify;
    const token = (name: string): string => `good-${name}`.padEnd(244, "x");
    for (const name of ["a", "b", "c"]) verify(token(name));
    verify(token("a")); // a is now the most recently used
    verify(token("d")); // evicts b
    calls = [];
    verify(token("a"));
    verify(token("c"));
    verify(token("b"));
    expect(calls).toEqual([token("b")]);
  });

  it("caches what an asynchronous verifier resolves, and answers later hits synchronously", async () => {
    const verify = cacheVerifiedTokens(async (token) => verifier()(token), options).verify;
    await expect(verify("good-alice")).resolves.toEqual({ id: "alice" });
    expect(verify("good-alice")).toEqual({ id: "alice" });
    await expect(verify("bad")).rejects.toThrow(AuthenticationFailure);
    expect(calls).toEqual(["good-alice", "bad"]);
  });

  it("forgets every verification when told to (the provider's keys were replaced)", () => {
    const cached = cacheVerifiedTokens(verifier(), options);
    cached.verify("good-alice");
    cached.verify("good-bob");
    cached.forget();
    cached.verify("good-alice");
    expect(calls).toEqual(["good-alice", "good-bob", "good-alice"]);
  });

  it("verifies again while its verifications are not to be trusted (keys due for a refresh)", () => {
    let trusted = true;
    const verify = cacheVerifiedTokens(verifier(), { ...options, trusted: () => trusted }).verify;
    verify("good-alice");
    trusted = false;
    verify("good-alice");
    verify("good-alice");
    trusted = true;
    verify("good-alice");
    expect(calls).toEqual(["good-alice", "good-alice", "good-alice"]);
  });
});
