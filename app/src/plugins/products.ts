import type { FastifyReply, onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ProductCache } from "../catalog/product-cache.js";
import { DuplicateSkuError, ProductHasOrdersError, type ProductStore } from "../catalog/product-store.js";
import { errorBody, idParams, pageQuery, pageSchema, storedText } from "./schemas.js";

/**
 * Sends JSON that is already text (a cache entry): Fastify sends a string typed as JSON as it is, past the
 * route's serializer, so the untyped reply is the honest type here.
 */
const sendJsonText = (reply: FastifyReply, json: string) =>
  reply.type("application/json; charset=utf-8").send(json);

export const productSchema = z.object({
  id: z.number(),
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  priceCents: z.number(),
  stock: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const newProduct = z.object({
  sku: storedText().trim().min(1).max(64),
  name: storedText().trim().min(1).max(200),
  description: storedText().max(2000).optional(),
  priceCents: z.number().int().min(0).max(1_000_000),
  stock: z.number().int().min(0).max(1_000_000_000),
});

const productChanges = newProduct
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, { message: "send at least one field to change" });

export interface ProductRoutesOptions {
  store: ProductStore;
  cache: ProductCache;
  requireAdmin: onRequestAsyncHookHandler;
}

export const productRoutes: FastifyPluginAsyncZod<ProductRoutesOptions> = async (
  app,
  { store, cache, requireAdmin },
) => {
  const notFound = (id: number) => ({ error: "Not Found", message: `product ${id} does not exist` });
  const conflict = (error: unknown) => {
    if (error instanceof DuplicateSkuError || error instanceof ProductHasOrdersError) {
      return { error: "Conflict", message: error.message };
    }
    throw error;
  };

  // The cached reads apply the rate limit themselves (the plugin's own check, with its headers and 429),
  // so that its counter and the cache lookup go to Redis together: a cached product read is one round trip.
  const rateLimit = app.rateLimit();
  const cachedRead = { rateLimit: false } as const;

  app.get(
    "/products",
    { config: cachedRead, schema: { querystring: pageQuery, response: { 200: pageSchema(productSchema) } } },
    async (request, reply) => {
      const { limit, after } = request.query;
      const [, cached] = await Promise.all([
        rateLimit.call(app, request, reply),
        cache.lookupPage(limit, after),
      ]);
      return cached.orLoad({ page: () => store.list(limit, after), products: (ids) => store.getMany(ids) });
    },
  );

  app.get(
    "/products/:id",
    { config: cachedRead, schema: { params: idParams, response: { 200: productSchema, 404: errorBody } } },
    async (request, reply) => {
      const { id } = request.params;
      const [, cached] = await Promise.all([rateLimit.call(app, request, reply), cache.lookupProduct(id)]);
      const json = await cached.orLoad(() => store.get(id));
      return json === null ? reply.code(404).send(notFound(id)) : sendJsonText(reply, json);
    },
  );

  app.post(
    "/products",
    {
      onRequest: requireAdmin,
      schema: { body: newProduct, response: { 201: productSchema, 409: errorBody } },
    },
    async ({ body }, reply) => {
      try {
        const product = await store.create(body);
        await cache.productAddedOrRemoved(product.id);
        return reply.code(201).header("location", `/products/${product.id}`).send(product);
      } catch (error) {
        return reply.code(409).send(conflict(error));
      }
    },
  );

  app.patch(
    "/products/:id",
    {
      onRequest: requireAdmin,
      schema: {
        params: idParams,
        body: productChanges,
        response: { 200: productSchema, 404: errorBody, 409: errorBody },
      },
    },
    async ({ params, body }, reply) => {
      try {
        const product = await store.update(params.id, body);
        if (!product) return reply.code(404).send(notFound(params.id));
        await cache.productChanged(params.id);
        return product;
      } catch (error) {
        return reply.code(409).send(conflict(error));
      }
    },
  );

  app.delete(
    "/products/:id",
    {
      onRequest: requireAdmin,
      schema: { params: idParams, response: { 204: z.null(), 404: errorBody, 409: errorBody } },
    },
    async ({ params }, reply) => {
      try {
        if (!(await store.delete(params.id))) return reply.code(404).send(notFound(params.id));
        await cache.productAddedOrRemoved(params.id);
        return reply.code(204).send(null);
      } catch (error) {
        return reply.code(409).send(conflict(error));
      }
    },
  );
};
