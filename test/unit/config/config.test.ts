import { ConfigError, loadConfig } from "../../../src/config/config";
import { DEVELOPMENT_JWT_SECRET } from "../../../src/config/development-secret";
import { ecKeyPair, TEST_JWT_SECRET } from "../../support/tokens";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("configuration was accepted");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const { config } = loadConfig({ JWT_SECRET: TEST_JWT_SECRET });

    expect(config.port).toBe(4000);
    expect(config.dapr).toEqual({
      host: "127.0.0.1",
      httpPort: 3500,
      apiToken: undefined,
      pubsubName: "kafka-pubsub",
      todoEventsTopic: "todo-events",
      publishTimeoutMs: 5000,
      publishBulkMaxEntries: 100,
    });
    expect(config.jwt).toMatchObject({ algorithms: ["HS256"], userClaim: "sub", usingDevelopmentSecret: false });
    expect(config.databaseUrl).toBe("sqlite:./data/todos.db");
    expect(config.graphql).toEqual({ introspection: true, sandbox: true });
    expect(config.host).toBe("0.0.0.0");
    expect(config.jwt.requireExpiry).toBe(true);
    expect(config.documentLimits).toEqual({
      maxDepth: 10,
      maxAliases: 30,
      maxCost: 5000,
      maxTokens: 2000,
      maxDirectives: 50,
    });
    expect(config.webSocket).toEqual({ maxSubscriptionsPerSocket: 20, maxSocketsPerUser: 10 });
  });

  it("refuses to start in production without APP_API_TOKEN, naming it", () => {
    const error = configError({ NODE_ENV: "production", JWT_SECRET: TEST_JWT_SECRET });

    expect(error.variable).toBe("APP_API_TOKEN");
    expect(error.message).toMatch(/APP_API_TOKEN is required in production/);
  });

  it("starts in production without APP_API_TOKEN only on the explicit opt-out, with a warning", () => {
    const { config, warnings } = loadConfig({
      NODE_ENV: "production",
      JWT_SECRET: TEST_JWT_SECRET,
      ALLOW_UNAUTHENTICATED_DELIVERIES: "true",
    });

    expect(config.appApiToken).toBeUndefined();
    expect(warnings.join("\n")).toMatch(/ALLOW_UNAUTHENTICATED_DELIVERIES=true: .*unsafe/);
  });

  it.each([
    ["PORT", "eighty", /PORT must be an integer/],
    ["PORT", "70000", /PORT must be between 0 and 65535/],
    ["DAPR_HTTP_PORT", "-1", /DAPR_HTTP_PORT must be an integer/],
    ["PUBLISH_TIMEOUT_MS", "0", /PUBLISH_TIMEOUT_MS must be between/],
    ["LOG_LEVEL", "loud", /LOG_LEVEL must be one of/],
    ["PUBSUB_NAME", "bad name", /PUBSUB_NAME must be a simple name/],
    ["GRAPHQL_INTROSPECTION", "maybe", /GRAPHQL_INTROSPECTION must be true or false/],
    ["JWT_ALGORITHMS", "HS512", /JWT_ALGORITHMS contains unsupported algorithm "HS512"/],
    ["PUBLISH_BULK_MAX_ENTRIES", "0", /PUBLISH_BULK_MAX_ENTRIES must be between 1 and 1000/],
    ["GRAPHQL_MAX_TOKENS", "10", /GRAPHQL_MAX_TOKENS must be between 100 and/],
    ["WS_MAX_SOCKETS_PER_USER", "0", /WS_MAX_SOCKETS_PER_USER must be between 1 and/],
    ["JWT_REQUIRE_EXP", "sometimes", /JWT_REQUIRE_EXP must be true or false/],
  ])("names %s when its value %j is invalid", (variable, value, message) => {
    const error = configError({ JWT_SECRET: TEST_JWT_SECRET, [variable]: value });

    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });

  it("refuses to start in production without a JWT setting", () => {
    expect(configError({ NODE_ENV: "production" }).variable).toBe("JWT_SECRET");
  });

  it("falls back to the development secret outside production, with a loud warning", () => {
    const { config, warnings } = loadConfig({ NODE_ENV: "development" });

    expect(config.jwt).toMatchObject({ verificationKey: DEVELOPMENT_JWT_SECRET, usingDevelopmentSecret: true });
    expect(warnings.join(" ")).toMatch(/development secret/);
  });

  it("refuses a short HS256 secret", () => {
    expect(configError({ JWT_SECRET: "short" }).message).toMatch(/JWT_SECRET must be at least 32 bytes/);
  });

  it("refuses HS256 next to a public key (algorithm confusion)", () => {
    const { publicKey } = ecKeyPair();
    expect(configError({ JWT_PUBLIC_KEY: publicKey, JWT_ALGORITHMS: "RS256,HS256" }).variable).toBe("JWT_ALGORITHMS");
  });

  it("accepts a public key with flattened newlines", () => {
    const { publicKey } = ecKeyPair();
    const { config } = loadConfig({ JWT_PUBLIC_KEY: publicKey.replace(/\n/g, "\\n"), JWT_ALGORITHMS: "ES256" });

    expect(config.jwt).toMatchObject({ keySource: "public-key", verificationKey: publicKey, algorithms: ["ES256"] });
  });

  it("refuses a public key that is not PEM", () => {
    expect(configError({ JWT_PUBLIC_KEY: "not a key" }).variable).toBe("JWT_PUBLIC_KEY");
  });

  it("names JWT_PUBLIC_KEY_FILE when the file cannot be read", () => {
    expect(configError({ JWT_PUBLIC_KEY_FILE: "/nonexistent/key.pem" }).message).toMatch(
      /JWT_PUBLIC_KEY_FILE cannot be read \(ENOENT\)/,
    );
  });

  it("turns off Sandbox and introspection in production unless introspection is enabled", () => {
    const production = { NODE_ENV: "production", JWT_SECRET: TEST_JWT_SECRET, APP_API_TOKEN: "app-token" };

    expect(loadConfig(production).config.graphql).toEqual({ introspection: false, sandbox: false });
    expect(
      loadConfig({ ...production, GRAPHQL_INTROSPECTION: "true", GRAPHQL_SANDBOX: "true" }).config.graphql,
    ).toEqual({
      introspection: true,
      sandbox: false,
    });
  });
});

describe("loadConfig with an identity provider", () => {
  const issuer = "https://login.example.com/realms/todo";
  const oidc = { OIDC_ISSUER: issuer, JWT_AUDIENCE: "todo-api" };

  it("reads OIDC_ISSUER with the documented defaults: asymmetric algorithms, the issuer as the required iss", () => {
    const { config, warnings } = loadConfig({ ...oidc, NODE_ENV: "production", APP_API_TOKEN: "app-token" });

    expect(config.jwt).toEqual({
      keySource: "provider",
      keyLocation: { oidcIssuer: issuer },
      algorithms: ["RS256", "ES256", "PS256"],
      issuer,
      audience: "todo-api",
      audienceClaim: "aud",
      userClaim: "sub",
      clockToleranceSeconds: 5,
      requireExpiry: true,
      keyCache: { minAgeMs: 60_000, maxAgeMs: 600_000, refetchCooldownMs: 30_000, fetchTimeoutMs: 5000 },
      usingDevelopmentSecret: false,
    });
    expect(warnings).toEqual([]);
  });

  it("reads JWT_JWKS_URI with JWT_ISSUER", () => {
    const jwksUri = "https://login.example.com/keys";
    const { config } = loadConfig({ JWT_JWKS_URI: jwksUri, JWT_ISSUER: issuer, JWT_AUDIENCE: "todo-api" });

    expect(config.jwt).toMatchObject({ keySource: "provider", keyLocation: { jwksUri }, issuer });
  });

  it("reads another audience claim (Amazon Cognito's access tokens carry client_id, not aud)", () => {
    const { config } = loadConfig({ ...oidc, JWT_AUDIENCE_CLAIM: "client_id" });

    expect(config.jwt).toMatchObject({ audience: "todo-api", audienceClaim: "client_id" });
  });

  it("refuses JWT_AUDIENCE_CLAIM without a provider: it would be silently ignored", () => {
    expect(configError({ JWT_SECRET: TEST_JWT_SECRET, JWT_AUDIENCE_CLAIM: "client_id" }).variable).toBe(
      "JWT_AUDIENCE_CLAIM",
    );
  });

  it("reads the cache bounds, cooldown and timeout", () => {
    const { config } = loadConfig({
      ...oidc,
      JWT_JWKS_CACHE_MIN_SECONDS: "5",
      JWT_JWKS_CACHE_MAX_SECONDS: "3600",
      JWT_JWKS_REFETCH_COOLDOWN_SECONDS: "10",
      JWT_JWKS_TIMEOUT_MS: "2000",
    });

    expect(config.jwt).toMatchObject({
      keyCache: { minAgeMs: 5000, maxAgeMs: 3_600_000, refetchCooldownMs: 10_000, fetchTimeoutMs: 2000 },
    });
  });

  it.each([
    ["without JWT_AUDIENCE", { OIDC_ISSUER: issuer }, "JWT_AUDIENCE", /required with OIDC_ISSUER/],
    [
      "JWT_JWKS_URI without JWT_ISSUER",
      { JWT_JWKS_URI: "https://login.example.com/keys", JWT_AUDIENCE: "a" },
      "JWT_ISSUER",
      /required with JWT_JWKS_URI/,
    ],
    [
      "HS256 among the algorithms",
      { ...oidc, JWT_ALGORITHMS: "RS256,HS256" },
      "JWT_ALGORITHMS",
      /cannot include HS256/,
    ],
    [
      "both OIDC_ISSUER and JWT_JWKS_URI",
      { ...oidc, JWT_JWKS_URI: "https://login.example.com/keys" },
      "OIDC_ISSUER",
      /mutually exclusive/,
    ],
    ["a JWT_SECRET as well", { ...oidc, JWT_SECRET: TEST_JWT_SECRET }, "OIDC_ISSUER", /cannot be combined/],
    [
      "a JWT_ISSUER that differs",
      { ...oidc, JWT_ISSUER: "https://elsewhere.example.com" },
      "JWT_ISSUER",
      /equal OIDC_ISSUER/,
    ],
    ["an issuer that is not a URL", { ...oidc, OIDC_ISSUER: "login.example.com" }, "OIDC_ISSUER", /absolute URL/],
    ["an issuer that is not http(s)", { ...oidc, OIDC_ISSUER: "ftp://login.example.com" }, "OIDC_ISSUER", /https:\/\//],
    [
      "credentials in the URL",
      { ...oidc, OIDC_ISSUER: "https://user:pw@login.example.com" },
      "OIDC_ISSUER",
      /credentials/,
    ],
    [
      "a cache maximum below the minimum",
      { ...oidc, JWT_JWKS_CACHE_MIN_SECONDS: "120", JWT_JWKS_CACHE_MAX_SECONDS: "60" },
      "JWT_JWKS_CACHE_MAX_SECONDS",
      /must not be below JWT_JWKS_CACHE_MIN_SECONDS/,
    ],
    [
      "a zero cooldown",
      { ...oidc, JWT_JWKS_REFETCH_COOLDOWN_SECONDS: "0" },
      "JWT_JWKS_REFETCH_COOLDOWN_SECONDS",
      /between 1/,
    ],
  ])("refuses %s, naming the variable", (_case, env, variable, message) => {
    const error = configError(env);

    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });

  it("warns when keys would come over plain http from another host", () => {
    expect(
      loadConfig({ ...oidc, OIDC_ISSUER: "http://keycloak.auth.svc:8080/realms/todo" }).warnings.join(" "),
    ).toMatch(/OIDC_ISSUER uses plain http/);
    expect(loadConfig({ ...oidc, OIDC_ISSUER: "http://127.0.0.1:8080/realms/todo" }).warnings).toEqual([]);
  });
});
