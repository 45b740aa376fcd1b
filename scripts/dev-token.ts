/**
 * `npm run token -- --sub user-456 [--ttl 1h]`: prints a signed HS256 JWT for
 * Sandbox and curl, using JWT_SECRET (or the development secret) and the
 * configured issuer/audience, so the running server accepts it.
 */
import { parseArgs } from "node:util";
import { signDevelopmentToken } from "../src/auth/development-token";
import { ConfigError, loadConfig } from "../src/config/config";

function main(): void {
  const { values } = parseArgs({
    options: { sub: { type: "string" }, ttl: { type: "string", default: "1h" } },
    strict: true,
  });
  if (values.sub === undefined || values.sub.trim() === "") {
    throw new Error("usage: npm run token -- --sub <user-id> [--ttl 1h]");
  }
  if (!/^\d+[smhd]?$/.test(values.ttl ?? ""))
    throw new Error(`--ttl must look like 30m, 1h or 7d, got "${values.ttl}"`);
  const { config, warnings } = loadConfig(process.env);
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(`${signDevelopmentToken(config.jwt, { subject: values.sub, ttl: values.ttl ?? "1h" })}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
