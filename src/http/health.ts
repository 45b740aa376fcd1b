import { Router } from "express";
import type { SigningKeyStatus } from "../auth/token-verifier";
import type { SidecarStatus } from "../events/event-publisher";
import type { OutboxBacklog } from "../events/log/outbox.repository";

export interface HealthDependencies {
  readonly probeSidecar: () => Promise<SidecarStatus>;
  /** Also proves the database answers. */
  readonly outboxBacklog: () => Promise<OutboxBacklog>;
  /** False once shutdown starts, so load balancers stop sending traffic. */
  readonly isAcceptingTraffic: () => boolean;
  /** With an identity provider: its keys, reported but never a reason to be unready (cached keys keep working). */
  readonly signingKeys?: () => SigningKeyStatus;
}

/**
 * /healthz: the process is up. /readyz: ready to serve, which needs the
 * database. A missing sidecar is reported but does not make the API unready:
 * todo mutations still commit (the outbox holds their events) and the trigger
 * mutation answers EVENT_PUBLISH_FAILED on its own.
 */
export function healthRoutes(deps: HealthDependencies): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const [dapr, outbox] = await Promise.all([deps.probeSidecar(), deps.outboxBacklog().catch(() => undefined)]);
    const accepting = deps.isAcceptingTraffic();
    const ready = accepting && outbox !== undefined;
    const status = !accepting ? "shutting-down" : ready ? "ready" : "database-unavailable";
    res.status(ready ? 200 : 503).json({
      status,
      checks: {
        dapr,
        database: outbox === undefined ? "unreachable" : "reachable",
        ...(outbox === undefined ? {} : { outbox }),
        ...(deps.signingKeys === undefined ? {} : { signingKeys: deps.signingKeys() }),
      },
    });
  });
  return router;
}
