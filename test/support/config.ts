import { loadConfig, type Config } from "../../src/config/config";
import { TEST_JWT_SECRET } from "./tokens";

/** A valid test configuration; `env` entries override or add variables. */
export function testConfig(env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: "silent",
    PORT: "0",
    DATABASE_URL: "sqlite::memory:",
    ...env,
  }).config;
}
