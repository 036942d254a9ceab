import type { FastifyPluginAsync } from "fastify";
import fp from "fastify-plugin";
import type { Metrics } from "../observability/metrics.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** `false` leaves a route out of the HTTP request metrics: pages that are not the API (its docs). */
    metrics?: boolean;
  }
}

const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.addHook("onResponse", async (request, reply) => {
    if (request.routeOptions.config.metrics === false) return;
    // The route pattern (/products/:id), never the raw URL, so label cardinality stays bounded.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  app.get("/metrics", { config: { rateLimit: false } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
};

// fastify-plugin lifts the encapsulation, so the onResponse hook sees every route, not just /metrics.
export const metricsRoutes = fp(metricsPlugin, { name: "metrics" });
