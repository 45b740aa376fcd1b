/**
 * Runs the real entry point as a child process with exactly the environment given, and lets a
 * test read its log lines and its exit: src/main.ts through ts-node (no build), or the built
 * dist/src/main.js as production runs it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const REPOSITORY_ROOT = resolve(__dirname, "../..");

/** The least a production start needs: a real secret, an ephemeral port, an in-memory database. */
export const PRODUCTION_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: "production",
  JWT_SECRET: "a-production-secret-of-at-least-32-bytes",
  PORT: "0",
  HOST: "127.0.0.1",
  DATABASE_URL: "sqlite::memory:",
};

export interface ApiProcess {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The JSON log lines written to stdout so far, in order. */
  logLines(): readonly Record<string, unknown>[];
  /** Resolves with the first JSON log line on stdout that matches, rejecting if the process exits first. */
  logLine(matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  /** Run dist/src/main.js (`npm run build` first) instead of the sources. */
  readonly built?: boolean;
}

export function spawnApi(env: Record<string, string>, options: SpawnOptions = {}): ApiProcess {
  const entry =
    options.built === true ? ["dist/src/main.js"] : ["-r", "ts-node/register/transpile-only", "src/main.ts"];
  const child = spawn(process.execPath, entry, {
    cwd: REPOSITORY_ROOT,
    // Nothing of the test's own environment leaks in (an APP_API_TOKEN, say), except where node is.
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const lines: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const complete = pending.split("\n");
    pending = complete.pop() ?? "";
    for (const line of complete) if (line.startsWith("{")) lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const listener of listeners) listener();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once("exit", (code, signal) => resolveExit({ code, signal })),
  );

  return {
    child,
    stderr: () => stderr,
    logLines: () => lines,
    exited,
    logLine(matches) {
      return new Promise((resolveLine, reject) => {
        const check = (): void => {
          const found = lines.find(matches);
          if (found === undefined) return;
          listeners.delete(check);
          resolveLine(found);
        };
        listeners.add(check);
        check();
        void exited.then(({ code }) => {
          listeners.delete(check);
          reject(new Error(`the API exited (code ${code}) before logging the line; stderr: ${stderr}`));
        });
      });
    },
  };
}
