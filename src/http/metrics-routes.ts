import type { FastifyPluginCallback, onResponseHookHandler } from "fastify";
import type { Metrics } from "../metrics/metrics";

/** Known routes as labels; anything else is "other", so scanners cannot grow the series. */
const ROUTES = new Set(["/graphql", "/healthz", "/readyz", "/metrics", "/dapr/todo-events", "/dapr/subscribe"]);

/** Observes every answer once it is sent, with the time Fastify has measured since the request arrived. */
export function measureRequests(metrics: Metrics): onResponseHookHandler {
  return (request, reply, done) => {
    const url = request.routeOptions.url;
    metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: url !== undefined && ROUTES.has(url) ? url : "other",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsRoute(metrics: Metrics): FastifyPluginCallback {
  return (app, _options, done) => {
    app.get("/metrics", async (_request, reply) =>
      reply.header("content-type", metrics.registry.contentType).send(await metrics.scrape()),
    );
    done();
  };
}
