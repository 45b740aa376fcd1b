/** The FastAPI seed service (bench/seed-fastapi/app.py) under uvicorn, publishing through the stack's daprd. */
import { join } from "node:path";
import { httpStatus, ManagedProcess, waitUntil } from "../test/stack/processes";

export interface SeedService {
  readonly origin: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startSeedService(options: {
  readonly python: string;
  readonly port: number;
  readonly daprHttpPort: number;
  readonly daprGrpcPort: number;
  readonly daprApiToken: string;
  readonly jwtSecret: string;
  readonly logDir: string;
}): Promise<SeedService> {
  const child = ManagedProcess.start({
    name: "seed-fastapi",
    command: options.python,
    // One worker, as `uvicorn app:app` runs it; access logs off, like a production deployment.
    args: ["-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", String(options.port), "--no-access-log"],
    cwd: join(__dirname, "seed-fastapi"),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BENCH_JWT_SECRET: options.jwtSecret,
      // No __pycache__ in the repository.
      PYTHONDONTWRITEBYTECODE: "1",
      DAPR_RUNTIME_HOST: "127.0.0.1",
      DAPR_HTTP_PORT: String(options.daprHttpPort),
      DAPR_GRPC_PORT: String(options.daprGrpcPort),
      DAPR_API_TOKEN: options.daprApiToken,
    },
    logFile: join(options.logDir, "seed-fastapi.log"),
  });
  const origin = `http://127.0.0.1:${options.port}`;
  try {
    await waitUntil(async () => (await httpStatus(`${origin}/healthz`)) === 200, {
      what: `the seed service's ${origin}/healthz to answer 200`,
      timeoutMs: 60_000,
      process: child,
    });
  } catch (error) {
    await child.stop(5000);
    throw error;
  }
  return {
    origin,
    pid: child.pid,
    async stop() {
      await child.stop(10_000);
    },
  };
}
