/**
 * API docs generated from the routes themselves: the OpenAPI document at /docs/json, Swagger UI at /docs.
 * Each route's zod schemas become its parameters, bodies and responses; a route guarded by the admin check
 * is marked as needing the admin bearer token. Nothing is written by hand, so the docs cannot drift.
 */
import { readFile } from "node:fs/promises";
import swagger, { type SwaggerTransform } from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyPluginAsync, FastifySchema } from "fastify";
import fp from "fastify-plugin";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { needsAdmin } from "./admin-auth.js";
import { errorBody } from "./schemas.js";

const DOCS_PREFIX = "/docs";
const ADMIN_TOKEN_SCHEME = "adminToken";

/** The service's name and version: app/package.json, two levels up from src/plugins and dist/plugins alike. */
async function readPackage(): Promise<{ version: string; description: string }> {
  const text = await readFile(new URL("../../package.json", import.meta.url), "utf8");
  const { version, description } = JSON.parse(text) as { version: string; description: string };
  return { version, description };
}

const isDocsRoute = (url: string) => url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`);

const withAdminToken = (schema: FastifySchema | undefined): FastifySchema => ({
  ...schema,
  security: [{ [ADMIN_TOKEN_SCHEME]: [] }],
  response: {
    ...(schema?.response as object | undefined),
    401: errorBody.describe("The admin token is missing or wrong"),
  },
});

/** The docs' own pages are not part of the API; everything else is described from its zod schemas. */
const transform: SwaggerTransform = (document) => {
  if (isDocsRoute(document.url)) return { schema: { hide: true }, url: document.url };
  if (!needsAdmin(document.route.onRequest)) return jsonSchemaTransform(document);
  return jsonSchemaTransform({ ...document, schema: withAdminToken(document.schema) });
};

/**
 * Register it before every other plugin: the document lists the routes declared after it (an onRoute hook).
 * The docs' own routes are not part of the API, so they stay out of what guards and watches it: its rate limit (a
 * page view is ten requests, which would spend a client's budget), its request metrics (the error-rate
 * and latency alerts describe the API, not downloads of a 1.5 MB UI bundle) and its request log (nginx's
 * access log records who reads the docs; warnings and errors are still logged).
 */
const apiDocsPlugin: FastifyPluginAsync = async (app) => {
  app.addHook("onRoute", (route) => {
    if (!isDocsRoute(route.url)) return;
    route.config = { ...route.config, rateLimit: false, metrics: false };
    route.logLevel = "warn";
  });
  const { version, description } = await readPackage();
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "catalog", version, description },
      components: {
        securitySchemes: {
          [ADMIN_TOKEN_SCHEME]: {
            type: "http",
            scheme: "bearer",
            description: "The service's ADMIN_TOKEN: product writes need it",
          },
        },
      },
    },
    transform,
    // Adds to components.schemas any zod schema given an id (`.meta({ id })`), referenced from the routes.
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
};

// fastify-plugin lifts the encapsulation, so the document's onRoute hook sees the routes of every plugin.
export const apiDocs = fp(apiDocsPlugin, { name: "api-docs" });
