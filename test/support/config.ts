import { loadConfig, type Config } from "../../src/config/config";
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
