import { Router } from "express";
import type { SidecarStatus } from "../events/dapr-sidecar-probe";

export interface HealthDependencies {
  readonly probeSidecar: () => Promise<SidecarStatus>;
  /** False once shutdown starts, so load balancers stop sending traffic. */
  readonly isAcceptingTraffic: () => boolean;
}

/**
 * /healthz: the process is up. /readyz: ready to serve. A missing sidecar is
 * reported but does not make the API unready: reads keep working and the
 * trigger mutation answers EVENT_PUBLISH_FAILED on its own.
 */
export function healthRoutes(deps: HealthDependencies): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const dapr = await deps.probeSidecar();
    const ready = deps.isAcceptingTraffic();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "shutting-down", checks: { dapr } });
  });
  return router;
}
