/**
 * A real Keycloak for the auth tier: installed from Maven Central and run in
 * dev mode by scripts/infra (cached after the first run), on a free loopback
 * port, with the given realm files imported into an in-memory database, so
 * every start is a fresh provider. Its HTTP access log is the provider's own
 * count of JWKS fetches.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { httpStatus, ManagedProcess, runToCompletion, waitUntil } from "./processes";
import { freePorts } from "./stack";

const REPO_ROOT = resolve(__dirname, "../..");
const INFRA = join(REPO_ROOT, "scripts/infra");
const MINUTE = 60_000;
/** A fresh machine downloads ~170 MB (about 20 s here). */
const INSTALL_TIMEOUT_MS = 10 * MINUTE;
/** The first start after an install also builds Keycloak's optimised image (~30 s on 2 cores). */
const START_TIMEOUT_MS = 5 * MINUTE;
/** Covers install and start: use it for the suite's beforeAll. */
export const KEYCLOAK_START_TIMEOUT_MS = INSTALL_TIMEOUT_MS + START_TIMEOUT_MS;

export interface Keycloak {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** The bootstrap admin's password (user `admin` in the master realm), random per start. */
  readonly adminPassword: string;
  /** ms spent installing (0 when cached) and starting. */
  readonly timings: { readonly installMs: number; readonly startMs: number };
  /** The issuer of a realm as Keycloak names it when asked at `origin`. */
  issuer(realm: string): string;
  /** GETs of the realm's JWKS that Keycloak has logged so far. */
  jwksRequests(realm: string): number;
  /** SIGTERM (the provider goes down); resolves when the server is gone and its port refuses connections. */
  stop(): Promise<void>;
  /** Stops the server if it runs and removes its work directory (kept with AUTH_KEEP_WORKDIR=1). */
  dispose(): Promise<void>;
  logTail(lines?: number): string;
}

const log = (message: string): void => {
  process.stderr.write(`[auth keycloak] ${message}\n`);
};

/** Starts Keycloak with these realm files; the first realm's discovery document answering means it is ready. */
export async function startKeycloak(realmFiles: readonly string[]): Promise<Keycloak> {
  const workDir = mkdtempSync(join(tmpdir(), "todo-keycloak-"));
  const logFile = join(workDir, "keycloak.log");
  const adminPassword = randomBytes(18).toString("base64url");
  const installStarted = performance.now();
  await runToCompletion("bash", [join(INFRA, "install-keycloak.sh")], {
    label: "install-keycloak",
    timeoutMs: INSTALL_TIMEOUT_MS,
    cwd: REPO_ROOT,
  });
  const installMs = Math.round(performance.now() - installStarted);

  const [port] = await freePorts(1);
  const origin = `http://127.0.0.1:${port}`;
  const firstRealm = realmName(realmFiles[0]);
  const startStarted = performance.now();
  const server = ManagedProcess.start({
    name: "keycloak",
    command: "bash",
    args: [join(INFRA, "run-keycloak.sh"), String(port), workDir, ...realmFiles],
    cwd: REPO_ROOT,
    env: { ...process.env, KEYCLOAK_ADMIN_PASSWORD: adminPassword },
    logFile,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.stop(20_000);
    await waitUntil(async () => (await httpStatus(`${origin}/`, {}, 500)) === undefined, {
      what: `Keycloak's port ${port} to close`,
      timeoutMs: 10_000,
    });
  };
  try {
    await waitUntil(
      async () => (await httpStatus(`${origin}/realms/${firstRealm}/.well-known/openid-configuration`)) === 200,
      { what: `Keycloak to serve realm ${firstRealm}`, timeoutMs: START_TIMEOUT_MS, intervalMs: 500, process: server },
    );
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const startMs = Math.round(performance.now() - startStarted);
  log(`Keycloak on ${origin} (install ${installMs} ms, start ${startMs} ms; log ${logFile})`);

  return {
    origin,
    adminPassword,
    timings: { installMs, startMs },
    issuer: (realm) => `${origin}/realms/${realm}`,
    jwksRequests(realm) {
      const line = `"GET /realms/${realm}/protocol/openid-connect/certs `;
      return readFileSync(logFile, "utf8")
        .split("\n")
        .filter((entry) => entry.includes(line)).length;
    },
    stop,
    async dispose() {
      await stop();
      if (process.env.AUTH_KEEP_WORKDIR === "1") log(`kept ${workDir}`);
      else rmSync(workDir, { recursive: true, force: true });
    },
    logTail: (lines = 40) => server.tail(lines),
  };
}

/** The realm a file defines: its "realm" field. */
function realmName(file: string | undefined): string {
  if (file === undefined) throw new Error("startKeycloak needs at least one realm file");
  const { realm } = JSON.parse(readFileSync(file, "utf8")) as { realm?: unknown };
  if (typeof realm !== "string") throw new Error(`${basename(file)} has no "realm" name`);
  return realm;
}
