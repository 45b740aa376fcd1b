import { loadConfig, type Config, type LocalKeyJwtConfig, type ProviderKeyJwtConfig } from "../../src/config/config";
import { TEST_JWT_SECRET } from "./tokens";

/** The app token production-mode test servers require on the Dapr delivery route. */
export const TEST_APP_API_TOKEN = "test-app-api-token-0123456789abcdef";

/** A valid test configuration; `env` entries override or add variables. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "silent",
    PORT: "0",
    DATABASE_URL: "sqlite::memory:",
    // Production refuses to start without an app token; tests that want none say so.
    ...(env.NODE_ENV === "production" && !("APP_API_TOKEN" in env) ? { APP_API_TOKEN: TEST_APP_API_TOKEN } : {}),
    ...env,
  }).config;
}

/** The JWT part of `testConfig(env)`, for tests of the secret and public-key modes. */
export function localKeyJwt(env: Record<string, string | undefined> = {}): LocalKeyJwtConfig {
  const { jwt } = testConfig(env);
  if (jwt.keySource === "provider") throw new Error("expected a secret or public-key configuration");
  return jwt;
}

/** The JWT part of a configuration with keys from an identity provider (OIDC_ISSUER unless `env` says otherwise). */
export function providerKeyJwt(env: Record<string, string | undefined> = {}): ProviderKeyJwtConfig {
  const { jwt } = testConfig({
    JWT_SECRET: undefined,
    OIDC_ISSUER: "https://login.example.com/realms/todo",
    JWT_AUDIENCE: "todo-api",
    ...env,
  });
  if (jwt.keySource !== "provider") throw new Error("expected an identity-provider configuration");
  return jwt;
}
