/**
 * Garbage in the Authorization header always ends as UNAUTHENTICATED (401),
 * or as Node's own 431 when the header is beyond what HTTP allows; never a
 * 500, never a crash. The inputs come from a seeded generator, so a failure
 * can be replayed.
 */
import { createHmac } from "node:crypto";
import { MeDocument } from "../../generated/graphql";
import { postGraphQL, startTestServer, type TestServer } from "../../support/test-server";
import { nowSeconds, rawToken, TEST_JWT_SECRET, tokenFor } from "../../support/tokens";

/** mulberry32: small, seeded, good enough to vary inputs reproducibly. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Signs arbitrary claims correctly, so only the claims are wrong. */
function signed(claims: unknown): string {
  const unsigned = rawToken({ alg: "HS256", typ: "JWT" }, claims as object).slice(0, -1);
  return `${unsigned}.${createHmac("sha256", TEST_JWT_SECRET).update(unsigned).digest("base64url")}`;
}

function fuzzedTokens(count: number, random: () => number): string[] {
  const bytes = (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
  const shapes: (() => string)[] = [
    () => bytes(1 + Math.floor(random() * 200)).toString("base64url"),
    () => `${bytes(20).toString("base64url")}.${bytes(40).toString("base64url")}.${bytes(32).toString("base64url")}`,
    () => "ÿ€漢字🙂".repeat(1 + Math.floor(random() * 20)),
    () => "a.".repeat(1 + Math.floor(random() * 50)),
    () => "x".repeat(9000 + Math.floor(random() * 4000)),
    () => signed({ sub: Math.floor(random() * 1e6), exp: nowSeconds() + 60 }),
    () => signed({ sub: { nested: { deeper: [1, 2, { sub: "admin" }] } }, exp: nowSeconds() + 60 }),
    () => signed({ sub: "", exp: nowSeconds() + 60 }),
    () => signed({ sub: null, exp: nowSeconds() + 60 }),
    () => signed({ sub: "a".repeat(300), exp: nowSeconds() + 60 }),
    () => signed({ sub: "ok", exp: "tomorrow" }),
    () => signed({ sub: "ok", nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 }),
    () => rawToken({ alg: "none" }, { sub: "admin", exp: nowSeconds() + 60 }),
    () => rawToken({ alg: "HS256", kid: "../../etc/passwd" }, { sub: "admin" }, "c2ln"),
    () => `${Buffer.from('{"alg":"HS256"').toString("base64url")}.e30.`,
  ];
  return Array.from({ length: count }, () => shapes[Math.floor(random() * shapes.length)]());
}

describe("fuzzed bearer tokens", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it("answer 401 UNAUTHENTICATED (or 431 for oversized headers), never 500, and the server keeps serving", async () => {
    const statuses = new Map<number, number>();
    for (const token of fuzzedTokens(300, seededRandom(20261129))) {
      const response = await fetch(`${server.origin}/graphql`, {
        method: "POST",
        // Header values travel as bytes: send non-Latin-1 text as its raw UTF-8 bytes, as a raw client would.
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${Buffer.from(token, "utf8").toString("latin1")}`,
        },
        body: JSON.stringify({ query: "{ me { id } }" }),
      });
      const status = response.status;
      const body = await response.text();
      // 431 comes from Node itself (header over its limit), before any application code.
      const code =
        status === 401
          ? (JSON.parse(body) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code
          : undefined;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect([401, 431]).toContain(status);
      if (status === 401) expect(code).toBe("UNAUTHENTICATED");
    }
    process.stderr.write(`[token fuzz] ${JSON.stringify(Object.fromEntries(statuses))}\n`);

    const healthy = await postGraphQL(
      server.origin,
      MeDocument,
      {},
      { authorization: `Bearer ${tokenFor("after-fuzz")}` },
    );
    expect(healthy.body.data?.me.id).toBe("after-fuzz");
    expect(statuses.get(401)).toBeGreaterThan(200);
  });
});
