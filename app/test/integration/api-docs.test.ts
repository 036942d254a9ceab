/**
 * The API docs at /docs: an OpenAPI document generated from the routes the app really serves, with their zod
 * schemas and the admin token where a route checks it, Swagger UI over it, and both kept out of the API's
 * rate limit, metrics and request log. API_DOCS=false turns them off.
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance, HTTPMethods } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppUnderTest, resetData, startApp } from "../support/app-under-test.js";

interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  security?: Array<Record<string, string[]>>;
}
interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
}

const isDocs = (route: string) => / \/docs(\/|$)/.test(route);

/**
 * Every "METHOD /path" the app serves (HEAD aside: Fastify adds one to each GET), read from Fastify's own
 * route table. printRoutes draws it as a tree, four columns per level, each line a segment of the path.
 */
function servedRoutes(app: FastifyInstance): string[] {
  const routes: string[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const node = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!node) continue;
    segments.length = (node[1] ?? "").length / 4;
    segments.push(node[2] ?? "");
    const methods = node[3]?.split(", ") ?? [];
    routes.push(...methods.filter((m) => m !== "HEAD").map((method) => `${method} ${segments.join("")}`));
  }
  return routes.sort();
}

/** The document's operations in the same "METHOD /path" form, `{id}` written back as `:id`. */
function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`),
    )
    .sort();
}

const operation = (document: OpenApiDocument, method: string, path: string): Operation => {
  const found = document.paths[path]?.[method];
  if (!found) throw new Error(`the document has no ${method} ${path}`);
  return found;
};
const jsonBody = (op: Operation) => op.requestBody?.content["application/json"]?.schema;
const jsonResponse = (op: Operation, status: string) =>
  op.responses[status]?.content?.["application/json"]?.schema;

describe("API docs", () => {
  let t: AppUnderTest;
  let document: OpenApiDocument;
  beforeAll(async () => {
    t = await startApp();
    const response = await t.app.inject({ url: "/docs/json" });
    expect(response.statusCode).toBe(200);
    document = response.json();
  });
  afterAll(async () => t.close());
  beforeEach(resetData);

  it("is an OpenAPI 3 document named and versioned after the app", async () => {
    const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8"));
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info).toMatchObject({ title: "catalog", version });
    for (const [path, operations] of Object.entries(document.paths)) {
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const op of Object.values(operations)) {
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        const declared = (op.parameters ?? []).filter((p) => p.in === "path");
        expect(declared.map((p) => p.name).sort()).toEqual(pathParams);
        expect(declared.every((p) => p.required === true)).toBe(true);
      }
    }
  });

  it("lists every route the app serves, and nothing else, leaving out the docs' own pages", () => {
    const served = servedRoutes(t.app).filter((route) => !isDocs(route));
    // The route table was read right: each route is one Fastify finds.
    for (const route of served) {
      const [method, url] = route.split(" ") as [HTTPMethods, string];
      expect(t.app.hasRoute({ method, url }), route).toBe(true);
    }
    expect(served).toEqual(expect.arrayContaining(["POST /products", "POST /orders", "GET /health"]));
    expect(documentedRoutes(document)).toEqual(served);
  });

  it("describes the bodies and answers of POST /products and POST /orders from their zod schemas", () => {
    const createProduct = operation(document, "post", "/products");
    expect(jsonBody(createProduct)?.required).toEqual(["sku", "name", "priceCents", "stock"]);
    expect(Object.keys(jsonBody(createProduct)?.properties ?? {})).toEqual([
      "sku",
      "name",
      "description",
      "priceCents",
      "stock",
    ]);
    expect(jsonBody(createProduct)?.properties?.priceCents).toMatchObject({ type: "integer", minimum: 0 });
    expect(jsonResponse(createProduct, "201")?.required).toEqual(
      expect.arrayContaining(["id", "sku", "priceCents", "stock", "createdAt"]),
    );
    expect(jsonResponse(createProduct, "409")?.required).toEqual(["error", "message"]);

    const placeOrder = operation(document, "post", "/orders");
    expect(jsonBody(placeOrder)?.required).toEqual(["productId", "quantity"]);
    expect(jsonBody(placeOrder)?.properties?.quantity).toMatchObject({ minimum: 1, maximum: 1000 });
    expect(jsonResponse(placeOrder, "201")?.required).toEqual(
      expect.arrayContaining(["id", "productId", "quantity", "totalCents"]),
    );
    expect(Object.keys(placeOrder.responses).sort()).toEqual(["201", "404", "409"]);
  });

  it("marks exactly the routes that refuse a caller without the admin token as needing it", async () => {
    expect(document.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    const secured: string[] = [];
    for (const route of documentedRoutes(document)) {
      const [method, path] = route.split(" ") as [HTTPMethods, string];
      const op = operation(document, method.toLowerCase(), path.replace(/:(\w+)/g, "{$1}"));
      const refused = (await t.app.inject({ method, url: path.replace(/:\w+/g, "1") })).statusCode === 401;
      expect(op.security !== undefined, `${route} declares the token as it checks it`).toBe(refused);
      if (op.security) {
        expect(op.security).toEqual([{ adminToken: [] }]);
        expect(op.responses["401"]?.description).toMatch(/admin token/);
        secured.push(route);
      }
    }
    expect(secured).toEqual(["DELETE /products/:id", "PATCH /products/:id", "POST /products"]);
  });

  it("serves Swagger UI at /docs, with every file its page loads", async () => {
    const page = await t.app.inject({ url: "/docs" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="swagger-ui">');
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? "");
    expect(assets).toEqual(expect.arrayContaining(["/docs/static/swagger-ui-bundle.js"]));
    for (const asset of assets) expect((await t.app.inject({ url: asset })).statusCode, asset).toBe(200);
  });
});

describe("API docs in production", () => {
  let limited: AppUnderTest;
  beforeAll(async () => {
    limited = await startApp({ env: { RATE_LIMIT_MAX: "2" } });
  });
  afterAll(async () => limited.close());
  beforeEach(resetData);

  it("stay out of the API's rate limit, request metrics and request log", async () => {
    const client = { remoteAddress: "203.0.113.50" };
    const page = await limited.app.inject({ url: "/docs", ...client });
    const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? "");
    const urls = [...assets, "/docs/json", "/docs/static/nonexistent.js"];
    for (let visit = 0; visit < 3; visit++) {
      for (const url of urls) {
        const response = await limited.app.inject({ url, ...client });
        expect(response.statusCode, url).toBe(url.includes("nonexistent") ? 404 : 200);
        expect(response.headers["x-ratelimit-limit"], url).toBeUndefined();
      }
    }
    // The client's API budget is whole: the docs spent none of it.
    const api = await limited.app.inject({ url: "/products", ...client });
    expect(api.statusCode).toBe(200);
    expect(api.headers["x-ratelimit-remaining"]).toBe("1");

    const metrics = (await limited.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/http_requests_total\{method="GET",route="\/products"/);
    expect(metrics).not.toMatch(/route="\/docs/);
    const logged = limited.logs.map((line) => (line.req as { url?: string } | undefined)?.url ?? "");
    expect(logged).toContain("/products");
    expect(logged.filter((url) => url.startsWith("/docs"))).toEqual([]);
  });
});

describe("API docs turned off", () => {
  let off: AppUnderTest;
  beforeAll(async () => {
    off = await startApp({ env: { API_DOCS: "false" } });
  });
  afterAll(async () => off.close());

  it("serve nothing at /docs, and the API is unchanged", async () => {
    for (const url of ["/docs", "/docs/json", "/docs/static/swagger-ui-bundle.js"]) {
      const response = await off.app.inject({ url });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ error: "Not Found" });
    }
    expect((await off.app.inject({ url: "/products" })).statusCode).toBe(200);
  });
});
