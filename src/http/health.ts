import type { FastifyPluginCallback } from "fastify";
import type { SigningKeyStatus } from "../auth/token-verifier";
import type { SidecarStatus } from "../events/event-publisher";
import type { OutboxBacklog } from "../events/log/outbox.repository";
import type { StorageState } from "../db/storage-status";

export interface HealthDependencies {
  readonly probeSidecar: () => Promise<SidecarStatus>;
  /** Also proves the database answers. */
  readonly outboxBacklog: () => Promise<OutboxBacklog>;
  /** False once shutdown starts, so load balancers stop sending traffic. */
  readonly isAcceptingTraffic: () => boolean;
  /** With an identity provider: its keys, reported but never a reason to be unready (cached keys keep working). */
  readonly signingKeys?: () => SigningKeyStatus;
  /** Full once a write found no space, until a mutation commits again. */
  readonly storage: () => StorageState;
}

/**
 * /healthz: the process is up. /readyz: ready to serve, which needs the
 * database. A missing sidecar is reported but does not make the API unready:
 * todo mutations still commit (the outbox holds their events) and the trigger
 * mutation answers EVENT_PUBLISH_FAILED on its own.
 */
export function healthRoutes(deps: HealthDependencies): FastifyPluginCallback {
  return (app, _options, done) => {
    app.get("/healthz", async () => ({ status: "ok" }));
    app.get("/readyz", async (_request, reply) => {
      const [dapr, outbox] = await Promise.all([deps.probeSidecar(), deps.outboxBacklog().catch(() => undefined)]);
      const accepting = deps.isAcceptingTraffic();
      const ready = accepting && outbox !== undefined;
      const storage = deps.storage();
      // A full disk leaves reads working, so the instance stays ready; the status says why writes fail.
      const status = !accepting
        ? "shutting-down"
        : !ready
          ? "database-unavailable"
          : storage.state === "full"
            ? "read-only: database storage full"
            : "ready";
      return reply.code(ready ? 200 : 503).send({
        status,
        checks: {
          dapr,
          database: outbox === undefined ? "unreachable" : "reachable",
          storage,
          ...(outbox === undefined ? {} : { outbox }),
          ...(deps.signingKeys === undefined ? {} : { signingKeys: deps.signingKeys() }),
        },
      });
    });
    done();
  };
}
