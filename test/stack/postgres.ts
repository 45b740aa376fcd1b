/** A throw-away PostgreSQL server for stack suites (scripts/postgres/pg-temp.sh). */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PG_SCRIPT = join(__dirname, "..", "..", "scripts", "postgres", "pg-temp.sh");

export interface TempPostgres {
  readonly url: string;
  /** Fast stop and start on the same port, keeping the data (a database outage). */
  restart(): void;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): void;
}

/** `under` puts the cluster (its data directory included) inside that directory instead of the temp dir. */
export function startTempPostgres(prefix: string, options: { readonly under?: string } = {}): TempPostgres {
  const parent = mkdtempSync(join(options.under ?? tmpdir(), `${prefix}-`));
  const dir = join(parent, "cluster");
  const url = execFileSync("bash", [PG_SCRIPT, "start", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return {
    url,
    restart: () => void execFileSync("bash", [PG_SCRIPT, "restart", dir], { stdio: ["ignore", "ignore", "inherit"] }),
    stop: () => {
      execFileSync("bash", [PG_SCRIPT, "stop", dir], { stdio: "inherit" });
      // pg-temp.sh removes the cluster directory; the parent made here is ours to remove.
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** Stops the stack, then PostgreSQL even when the stack's teardown failed. */
export async function stopAll(
  stack: { stop(): Promise<void> } | undefined,
  postgres: TempPostgres | undefined,
): Promise<void> {
  try {
    await stack?.stop();
  } finally {
    postgres?.stop();
  }
}
