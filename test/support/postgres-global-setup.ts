/**
 * Starts a throw-away PostgreSQL server (Debian's package, installed when
 * missing) for the integration tier. If it cannot start, the tier fails with
 * the script's message: it never skips.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTGRES_URL_VARIABLE } from "./databases";

const script = join(__dirname, "..", "..", "scripts", "postgres", "pg-temp.sh");

export default function startPostgres(): void {
  if (process.env[POSTGRES_URL_VARIABLE] !== undefined) return; // an outer runner already started one
  const dir = join(mkdtempSync(join(tmpdir(), "todo-pg-")), "cluster");
  let url: string;
  try {
    url = execFileSync("bash", [script, "start", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
  } catch (error) {
    throw new Error(`PostgreSQL could not be started for the integration tests (${script} start): ${String(error)}`);
  }
  process.env[POSTGRES_URL_VARIABLE] = url;
  process.env.TEST_POSTGRES_DIR = dir;
}
