/**
 * The Python side of the bench (the FastAPI seed service and the matplotlib chart) runs in a
 * virtualenv created from PyPI into a cache outside the repository, once.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { runToCompletion } from "../test/stack/processes";

const PACKAGES = ["fastapi", "uvicorn", "dapr", "PyJWT", "matplotlib"];
const IMPORTS = "import fastapi, uvicorn, dapr.clients, jwt, matplotlib";

export const VENV_DIR = process.env.BENCH_VENV_DIR ?? join(homedir(), ".cache/todo-graphql-dapr/bench-venv");

/** Creates the virtualenv when it is missing or incomplete; returns its python. */
export async function ensurePythonEnv(log: (message: string) => void): Promise<string> {
  const python = join(VENV_DIR, "bin/python");
  const options = { label: "venv", timeoutMs: 15 * 60_000, cwd: process.cwd() };
  if (existsSync(python)) {
    try {
      await runToCompletion(python, ["-c", IMPORTS], options);
      return python;
    } catch {
      log(`${VENV_DIR} lacks a package; installing`);
    }
  } else {
    log(`creating ${VENV_DIR} (python3 -m venv) and installing ${PACKAGES.join(", ")} from PyPI`);
    await runToCompletion("python3", ["-m", "venv", VENV_DIR], options);
  }
  await runToCompletion(python, ["-m", "pip", "install", "--quiet", ...PACKAGES], options);
  return python;
}
