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
    ["JWT_JWKS_URI", "https://issuer.test/jwks", /JWT_JWKS_URI is not supported yet/],
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

    expect(config.jwt.verificationKey).toBe(DEVELOPMENT_JWT_SECRET);
    expect(config.jwt.usingDevelopmentSecret).toBe(true);
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

    expect(config.jwt.verificationKey).toBe(publicKey);
    expect(config.jwt.algorithms).toEqual(["ES256"]);
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
