import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Counter } from "prom-client";
import { z } from "zod";
import type { ProductCache } from "../catalog/product-cache.js";
import type { OrderStore } from "../orders/order-store.js";
import { errorBody, idParams, pageQuery, pageSchema, rowId } from "./schemas.js";

const orderSchema = z.object({
  id: z.number(),
  productId: z.number(),
  quantity: z.number(),
  unitPriceCents: z.number(),
  totalCents: z.number(),
  createdAt: z.string(),
});

const newOrder = z.object({
  productId: rowId,
  quantity: z.number().int().min(1).max(1000),
});

export interface OrderRoutesOptions {
  store: OrderStore;
  cache: ProductCache;
  /** Counts each order placed: the dashboard's orders per minute. */
  placed: Pick<Counter, "inc">;
}

export const orderRoutes: FastifyPluginAsyncZod<OrderRoutesOptions> = async (
  app,
  { store, cache, placed },
) => {
  app.post(
    "/orders",
    { schema: { body: newOrder, response: { 201: orderSchema, 404: errorBody, 409: errorBody } } },
    async ({ body }, reply) => {
      const result = await store.place(body.productId, body.quantity);
      switch (result.outcome) {
        case "placed":
          placed.inc();
          // Stock is part of every product read: that product's cached entry is stale now, and only it.
          await cache.productChanged(body.productId);
          return reply.code(201).header("location", `/orders/${result.order.id}`).send(result.order);
        case "unknown_product":
          return reply
            .code(404)
            .send({ error: "Not Found", message: `product ${body.productId} does not exist` });
        case "insufficient_stock":
          return reply.code(409).send({
            error: "Conflict",
            message: `only ${result.available} in stock, ${body.quantity} requested`,
            available: result.available,
          });
      }
    },
  );

  app.get(
    "/orders/:id",
    { schema: { params: idParams, response: { 200: orderSchema, 404: errorBody } } },
    async ({ params }, reply) =>
      (await store.get(params.id)) ??
      reply.code(404).send({ error: "Not Found", message: `order ${params.id} does not exist` }),
  );

  app.get(
    "/orders",
    { schema: { querystring: pageQuery, response: { 200: pageSchema(orderSchema) } } },
    async ({ query }) => store.list(query.limit, query.after),
  );
};
