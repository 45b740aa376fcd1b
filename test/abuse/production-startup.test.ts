/** The real entry point in production: it refuses to start with an unauthenticated delivery route. */
import { PRODUCTION_ENV as PRODUCTION, spawnApi, type ApiProcess } from "../support/api-process";

/** pino's number for the warn level. */
const WARN_LEVEL = 40;

describe("starting the API in production", () => {
  let api: ApiProcess | undefined;
  afterEach(async () => {
    if (api !== undefined && api.child.exitCode === null && api.child.signalCode === null) {
      api.child.kill("SIGKILL");
      await api.exited;
    }
    api = undefined;
  });

  it("exits with code 78 and names APP_API_TOKEN when it is not set", async () => {
    api = spawnApi(PRODUCTION);

    const { code } = await api.exited;

    expect(code).toBe(78);
    expect(api.stderr()).toMatch(/APP_API_TOKEN/);
  }, 20_000);

  it("starts with ALLOW_UNAUTHENTICATED_DELIVERIES=true, warning that deliveries are unauthenticated", async () => {
    api = spawnApi({ ...PRODUCTION, ALLOW_UNAUTHENTICATED_DELIVERIES: "true" });

    const ready = await api.logLine((line) => line.msg === "ready");
    const health = await fetch(new URL("/healthz", String(ready.url)));
    api.child.kill("SIGTERM");
    const { code } = await api.exited;

    expect(api.logLines()).toContainEqual(
      expect.objectContaining({
        level: WARN_LEVEL,
        msg: expect.stringMatching(/^ALLOW_UNAUTHENTICATED_DELIVERIES=true/),
      }),
    );
    expect(health.status).toBe(200);
    expect(code).toBe(0);
  }, 20_000);
});
