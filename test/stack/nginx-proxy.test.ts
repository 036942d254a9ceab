/**
 * Real nginx (Debian's) with the repository's configuration in front of the real app, both on
 * 127.0.0.1, with Postgres and Redis from the shared test harness.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COUNT_EDGE_ANSWERS } from "../../deploy/src/commands/nginx.js";
import { freePort } from "../harness/network.js";
import { type EdgeStack, startEdgeStack } from "./support/edge-stack.js";
import type { HostApp } from "./support/host-app.js";
import { type Reply, readCa, request } from "./support/https-client.js";
import type { HostNginx } from "./support/nginx-host.js";

let edgeStack: EdgeStack | undefined;
let app: HostApp | undefined;
let nginx: HostNginx | undefined;
let ca: Buffer;

function edge(): HostNginx {
  if (!nginx) throw new Error("nginx did not start");
  return nginx;
}

function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(`${edge().httpsUrl}${path}`, { ca, headers });
}

function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers["strict-transport-security"]).toBe("max-age=63072000");
  expect(reply.headers["x-content-type-options"]).toBe("nosniff");
  expect(reply.headers["x-frame-options"]).toBe("DENY");
  expect(reply.headers["content-security-policy"]).toBe("frame-ancestors 'none'");
  expect(reply.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(reply.headers.server).toBe("nginx");
}

async function tlsHandshake(versionFlag: string): Promise<{ ok: boolean; output: string }> {
  const result = await execa(
    "openssl",
    [
      "s_client",
      "-connect",
      `127.0.0.1:${edge().layout.httpsPort}`,
      "-servername",
      "localhost",
      versionFlag,
      // Lets the client offer old protocols at all, so a refusal comes from the server.
      "-cipher",
      "DEFAULT:@SECLEVEL=0",
      "-alpn",
      "h2,http/1.1",
      "-CAfile",
      join(edge().prefix, "certs", "fullchain.pem"),
      "-verify_return_error",
    ],
    { input: "", reject: false, all: true, timeout: 10_000 },
  );
  const output = result.all ?? "";
  // Neither the exit code nor the session block: after a TLS 1.3 handshake, s_client prints the
  // session only if the server's ticket arrived before it closed, and may exit 1 on that close.
  return { ok: /^New, TLSv1\.[0-3], Cipher is /m.test(output), output };
}

/** Retries `attempt` until `done` holds, for at most 5 s; returns the last reply either way. */
async function eventually(attempt: () => Promise<Reply>, done: (reply: Reply) => boolean): Promise<Reply> {
  const deadline = Date.now() + 5_000;
  let reply = await attempt();
  while (!done(reply) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    reply = await attempt();
  }
  return reply;
}

beforeAll(async () => {
  // The app's own limiter would answer 429 too; make sure the 429s below come from nginx.
  edgeStack = await startEdgeStack({ database: "stack_nginx", appEnv: { RATE_LIMIT_MAX: "1000000" } });
  ({ app, nginx } = edgeStack);
  ca = readCa(nginx.prefix);
});

afterAll(async () => {
  await edgeStack?.stop();
});

describe("TLS", () => {
  it("accepts TLS 1.2 and TLS 1.3, offering HTTP/2 by ALPN", async () => {
    const tls12 = await tlsHandshake("-tls1_2");
    expect(tls12.ok, tls12.output).toBe(true);
    expect(tls12.output).toMatch(/^New, TLSv1\.2, Cipher is ECDHE-/m);
    const tls13 = await tlsHandshake("-tls1_3");
    expect(tls13.ok, tls13.output).toBe(true);
    expect(tls13.output).toMatch(/^New, TLSv1\.3,/m);
    expect(tls13.output).toMatch(/Verify return code: 0 \(ok\)/);
    expect(tls13.output).toMatch(/ALPN protocol: h2/);
  });

  it("refuses TLS 1.0 and 1.1", async () => {
    for (const flag of ["-tls1", "-tls1_1"]) {
      const result = await tlsHandshake(flag);
      expect(result.ok, result.output).toBe(false);
      expect(result.output).toMatch(/alert protocol version|no protocols available|unsupported protocol/i);
    }
  });

  it("serves HTTP/2", async () => {
    const session = http2.connect(edge().httpsUrl, { ca, servername: "localhost" });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ":path": "/healthz" });
        stream.on("response", (headers) => resolve(Number(headers[":status"])));
        stream.on("error", reject);
        stream.end();
      });
      expect(status).toBe(200);
    } finally {
      session.close();
    }
  });
});

describe("HTTP on port 80", () => {
  it("redirects to HTTPS, keeping path and query", async () => {
    const reply = await request(`${edge().httpUrl}/products?limit=2`);
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe("https://127.0.0.1/products?limit=2");
    expectSecurityHeaders(reply);
  });

  it("answers the ACME challenge without redirecting", async () => {
    const token = randomBytes(16).toString("hex");
    writeFileSync(join(edge().layout.acmeRoot, ".well-known", "acme-challenge", token), `${token}.key`);
    const reply = await request(`${edge().httpUrl}/.well-known/acme-challenge/${token}`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe(`${token}.key`);
  });
});

describe("proxying to the app", () => {
  it("passes /healthz through and leaves it out of the access log", async () => {
    const marker = randomBytes(8).toString("hex");
    const health = await get(`/healthz?probe=${marker}`);
    expect(health.status).toBe(200);
    expectSecurityHeaders(health);
    const listed = await get(`/products?limit=1&probe=${marker}`);
    expect(listed.status).toBe(200);

    const logged = () =>
      edge()
        .accessLog()
        .filter((line) => line.includes(marker));
    // nginx writes the log line after the response has gone out, and buffers it for up to 500 ms.
    for (let attempt = 0; attempt < 20 && logged().length < 1; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = logged();
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "{}");
    expect(entry).toMatchObject({ method: "GET", status: 200, tls: expect.stringMatching(/^TLSv1\.[23]$/) });
    expect(entry.uri).toContain("/products");
  });

  it("creates and reads data through nginx, with the request id passed both ways", async () => {
    const sku = `sku-${randomBytes(4).toString("hex")}`;
    const created = await request(`${edge().httpsUrl}/products`, {
      ca,
      method: "POST",
      headers: {
        authorization: `Bearer ${app?.adminToken}`,
        "content-type": "application/json",
        "x-request-id": "stack-test-1",
      },
      body: JSON.stringify({ sku, name: "Lamp", priceCents: 1999, stock: 3 }),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers["x-request-id"]).toBe("stack-test-1");
    expectSecurityHeaders(created);
    const { id } = JSON.parse(created.text) as { id: number };

    const read = await get(`/products/${id}`);
    expect(read.status).toBe(200);
    expect(JSON.parse(read.text)).toMatchObject({ id, sku, name: "Lamp" });
  });

  it("keeps security headers on the app's own 4xx responses", async () => {
    const missing = await get("/products/2147483647");
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing);
    const unauthorised = await request(`${edge().httpsUrl}/products`, {
      ca,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: "no-token", name: "Nope", priceCents: 1, stock: 1 }),
    });
    expect(unauthorised.status).toBe(401);
    expectSecurityHeaders(unauthorised);
  });

  it("does not expose /metrics to the outside", async () => {
    const reply = await get("/metrics");
    expect(reply.status).toBe(404);
    expectSecurityHeaders(reply);
    expect((await fetch(`${app?.url}/metrics`)).status).toBe(200);
  });

  it("compresses large JSON responses", async () => {
    for (let i = 0; i < 30; i++) {
      await request(`${edge().httpsUrl}/products`, {
        ca,
        method: "POST",
        headers: { authorization: `Bearer ${app?.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({
          sku: `bulk-${randomBytes(6).toString("hex")}`,
          name: "Bulk",
          priceCents: 1,
          stock: 1,
        }),
      });
    }
    const reply = await get("/products?limit=50", { "accept-encoding": "gzip" });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-encoding"]).toBe("gzip");
  });
});

describe("static files", () => {
  it("serves them with cache headers and the security headers", async () => {
    mkdirSync(join(edge().layout.htmlRoot, "static"), { recursive: true });
    writeFileSync(join(edge().layout.htmlRoot, "static", "site.css"), "body { color: black; }\n".repeat(100));
    const reply = await get("/static/site.css", { "accept-encoding": "gzip" });
    expect(reply.status).toBe(200);
    expect(reply.headers["cache-control"]).toBe("max-age=604800");
    expect(reply.headers["content-encoding"]).toBe("gzip");
    expectSecurityHeaders(reply);
  });
});

describe("limits", () => {
  it("answers 413 with a JSON body and the security headers to an oversized body", async () => {
    const reply = await request(`${edge().httpsUrl}/products`, {
      ca,
      method: "POST",
      headers: { authorization: `Bearer ${app?.adminToken}`, "content-type": "application/json" },
      body: Buffer.alloc(2 * 1024 * 1024, "a"),
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.text)).toMatchObject({ error: "Payload Too Large" });
    expectSecurityHeaders(reply);
  });

  it("answers 429 with Retry-After under a burst", async () => {
    const replies = await Promise.all(Array.from({ length: 120 }, () => get("/products?limit=1")));
    const limited = replies.filter((reply) => reply.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(replies.filter((reply) => reply.status === 200).length).toBeGreaterThan(0);
    const first = limited[0] as Reply;
    expect(first.headers["retry-after"]).toBe("1");
    expect(first.headers["content-type"]).toBe("application/json");
    expectSecurityHeaders(first);
  });

  it("answers 502 with the security headers when the upstream is down, and recovers on switch back", async () => {
    const live = `127.0.0.1:${app?.port}`;
    await edge().switchUpstream([`127.0.0.1:${await freePort()}`]);
    try {
      // A reload is asynchronous: old workers finish their connections while new ones start.
      const down = await eventually(
        () => get("/healthz"),
        (reply) => reply.status === 502,
      );
      expect(down.status).toBe(502);
      expect(JSON.parse(down.text)).toMatchObject({ error: "Service Unavailable" });
      expectSecurityHeaders(down);
    } finally {
      await edge().switchUpstream([live]);
    }
    expect(
      (
        await eventually(
          () => get("/healthz"),
          (reply) => reply.status === 200,
        )
      ).status,
    ).toBe(200);
  });

  it("in a watch window, a GET the new release fails with 500 is answered by the previous one; a POST is not retried; the log counts both", async () => {
    const live = `127.0.0.1:${app?.port}`;
    // The new release: answers 500 to everything.
    const failing = http.createServer((_, res) => res.writeHead(500).end("{}"));
    const port = await freePort();
    await new Promise<void>((resolve) => failing.listen(port, "127.0.0.1", resolve));
    const logged = edge().accessLog().length;
    await edge().switchUpstream([`127.0.0.1:${port}`], [live]);
    try {
      // The POST first: a reload is asynchronous, and old workers still send everything to the app (401).
      // A POST may have had its effect on the server that failed it: it is never sent twice.
      const post = await eventually(
        () =>
          request(`${edge().httpsUrl}/products`, {
            ca,
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{}",
          }),
        (reply) => reply.status === 500,
      );
      expect(post.status).toBe(500);
      // Then a GET, which the backup answers. (Three failures would make nginx skip the new server.)
      const saved = await get("/version");
      expect(saved.status).toBe(200);
      // The access log is buffered (flushed within 500 ms): wait for the GET's line.
      const savedLine = (l: string) => l.includes('"upstream_status":"500, 200"');
      // This window's requests: those sent to the new release first. The log is flushed late under load, so
      // an earlier test's lines (its 502s) may land after `logged`; they are not this window's.
      const windowLines = () =>
        edge()
          .accessLog()
          .slice(logged)
          .filter((l) => l.includes(`"upstream_addr":"127.0.0.1:${port}`));
      for (let attempt = 0; attempt < 50 && !windowLines().some(savedLine); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const lines = windowLines();
      expect(lines.some(savedLine)).toBe(true);
      const log = join(edge().prefix, "watch-window.log");
      writeFileSync(log, `${lines.join("\n")}\n`);
      const { stdout } = await execa("awk", [COUNT_EDGE_ANSWERS, log]);
      const [proxied, failed] = stdout.trim().split(" ").map(Number);
      expect(proxied).toBe(lines.filter((l) => /"upstream_status":"\d/.test(l)).length);
      // The GET saved by the backup and the POST both count as the new release's failures.
      expect(failed).toBe(lines.filter((l) => l.includes('"upstream_status":"500')).length);
      expect(failed).toBeGreaterThanOrEqual(2);
    } finally {
      await edge().switchUpstream([live]);
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});
