/**
 * Child processes for the end-to-end stack: each one runs in its own process
 * group (so a shell script and whatever it starts are stopped together), logs
 * to a file, and is stopped with SIGTERM, then SIGKILL after a grace period.
 *
 * PID 1 in some sandboxes does not reap orphans, so a dead grandchild can stay
 * a zombie forever: liveness is read from /proc (state Z/X counts as dead),
 * never from `kill -0`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { connect } from "node:net";

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
}

const running = new Set<ManagedProcess>();

// Last line of defence when Jest exits without running afterAll (crash, --forceExit).
process.once("exit", () => {
  for (const child of running) signalGroup(child.pid, "SIGKILL");
});

export class ManagedProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`${name}: spawn failed (no pid)`);
    this.pid = child.pid;
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    running.add(this);
  }

  static start(options: StartOptions): ManagedProcess {
    const fd = openSync(options.logFile, "a");
    writeSync(
      fd,
      `\n===== ${new Date().toISOString()} ${options.name}: ${options.command} ${options.args.join(" ")}\n`,
    );
    try {
      const child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        detached: true, // own process group: signalGroup() reaches the script and what it execs/starts
        stdio: ["ignore", fd, fd],
      });
      return new ManagedProcess(options.name, options.logFile, child);
    } finally {
      closeSync(fd);
    }
  }

  /** Undefined while running. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no member is alive. */
  async stop(graceMs: number): Promise<ExitInfo> {
    if (this.exitInfo === undefined) {
      signalGroup(this.pid, "SIGTERM");
      await within(this.exited, graceMs);
    }
    if (this.exitInfo === undefined || liveGroupMembers(this.pid).length > 0) {
      signalGroup(this.pid, "SIGKILL");
    }
    const exit = await this.exited;
    const deadline = Date.now() + 5000;
    while (liveGroupMembers(this.pid).length > 0) {
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: processes ${liveGroupMembers(this.pid).join(", ")} survived SIGKILL`);
      }
      await delay(50);
    }
    running.delete(this);
    return exit;
  }

  /** SIGKILL to the whole group, as a crash would; resolves when no member is alive. */
  async kill(): Promise<ExitInfo> {
    signalGroup(this.pid, "SIGKILL");
    return this.stop(0);
  }

  /** The last `lines` lines of the process's log file. */
  tail(lines = 40): string {
    return tailFile(this.logFile, lines);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Pids in process group `pgid` that are not zombies (Linux /proc; elsewhere: none known). */
export function liveGroupMembers(pgid: number): number[] {
  if (!existsSync("/proc/self/stat")) return [];
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [state, , pgrp] = fields;
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") members.push(Number(entry));
  }
  return members;
}

export function tailFile(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(cannot read ${path}: ${(error as Error).message})`;
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or undefined after `ms`; the timer is cleared either way so it never holds Jest open. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function acceptsTcp(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** HTTP status of a GET, or undefined when nothing answered within `timeoutMs`. */
export async function httpStatus(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 1000,
): Promise<number | undefined> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

export interface WaitOptions {
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Fail at once, with its log tail, when this process exits first. */
  readonly process?: ManagedProcess;
}

/** Polls `check` until it is true; throws a message naming what did not happen. */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    const exit = options.process?.exit;
    if (options.process !== undefined && exit !== undefined) {
      throw new Error(
        `${options.process.name} exited (code ${exit.code}, signal ${exit.signal}) before ${options.what}; ` +
          `log ${options.process.logFile}:\n${options.process.tail()}`,
      );
    }
    if (Date.now() > deadline) {
      const log = options.process === undefined ? "" : `; log ${options.process.logFile}:\n${options.process.tail()}`;
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${log}`);
    }
    await delay(options.intervalMs ?? 100);
  }
}

export interface RunScriptOptions {
  readonly label: string;
  readonly timeoutMs: number;
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs a command to completion and returns its stdout. Its stderr (progress of
 * long installs) is streamed to ours with a prefix. The whole process group is
 * killed on timeout.
 */
export function runToCompletion(command: string, args: readonly string[], options: RunScriptOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderrTail = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      for (const line of chunk.split("\n")) if (line !== "") process.stderr.write(`[e2e ${options.label}] ${line}\n`);
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      reject(new Error(`${options.label}: ${command} ${args.join(" ")} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${options.label}: cannot run ${command}: ${error.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else
        reject(
          new Error(
            `${options.label}: ${command} ${args.join(" ")} failed (code ${code}, signal ${signal}):\n${stderrTail}`,
          ),
        );
    });
  });
}
