import type { onRequestAsyncHookHandler } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ProductCache } from "../catalog/product-cache.js";
import { DuplicateSkuError, ProductHasOrdersError, type ProductStore } from "../catalog/product-store.js";
import { errorBody, idParams, pageQuery, pageSchema, storedText } from "./schemas.js";

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

  app.get(
    "/products",
    { schema: { querystring: pageQuery, response: { 200: pageSchema(productSchema) } } },
    async ({ query }) => cache.page(query.limit, query.after, () => store.list(query.limit, query.after)),
  );

  app.get(
    "/products/:id",
    { schema: { params: idParams, response: { 200: productSchema, 404: errorBody } } },
    async ({ params }, reply) => {
      const product = await cache.product(params.id, () => store.get(params.id));
      return product ?? reply.code(404).send(notFound(params.id));
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
        await cache.invalidate(product.id);
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
        await cache.invalidate(params.id);
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
        await cache.invalidate(params.id);
        return reply.code(204).send(null);
      } catch (error) {
        return reply.code(409).send(conflict(error));
      }
    },
  );
};
