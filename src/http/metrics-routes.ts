import { Router, type RequestHandler } from "express";
import type { Metrics } from "../metrics/metrics";

/** Known routes as labels; anything else is "other", so scanners cannot grow the series. */
const ROUTES = ["/graphql", "/healthz", "/readyz", "/metrics", "/dapr/todo-events", "/dapr/subscribe"];

export function measureRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stopTimer = metrics.httpRequestDuration.startTimer();
    // Read now: mounted routers rewrite req.path while they handle the request.
    const route = ROUTES.includes(req.path) ? req.path : "other";
    res.on("finish", () => {
      stopTimer({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsRoute(metrics: Metrics): Router {
  const router = Router();
  router.get("/metrics", async (_req, res) => {
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.scrape());
  });
  return router;
}
