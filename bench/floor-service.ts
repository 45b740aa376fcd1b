/** Starts bench/floor-server.ts in its own process, as the benchmark's framework floor. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { FloorLayer } from "./floor-server";

export interface FloorService {
  readonly origin: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, "..");

export async function startFloorService(options: {
  readonly layer: FloorLayer;
  readonly port: number;
  readonly jwtSecret: string;
  /** The product's V8 flags, so both run the same heap settings. */
  readonly nodeArgs: readonly string[];
}): Promise<FloorService> {
  const child = spawn(
    process.execPath,
    [
      ...options.nodeArgs,
      "-r",
      "ts-node/register/transpile-only",
      "bench/floor-server.ts",
      options.layer,
      String(options.port),
      options.jwtSecret,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, NODE_ENV: "production" } },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  await new Promise<void>((resolveStarted, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`floor server (${options.layer}) not listening after 30 s`)),
      30_000,
    );
    child.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").includes("listening")) {
        clearTimeout(timer);
        resolveStarted();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`floor server (${options.layer}) exited with ${code}:\n${stderr}`));
    });
  });
  if (child.pid === undefined) throw new Error("floor server has no pid");
  return {
    origin: `http://127.0.0.1:${options.port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
