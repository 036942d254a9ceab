/**
 * The checks through publicUrl against a real HTTPS server with a self-signed certificate, as a host fresh
 * from setup serves: refused as Node trusts by default, answered once the host's certificate is trusted,
 * and refused again for a certificate the host does not serve.
 */
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { siteGet } from "../../src/site.js";

async function selfSigned(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  await execa("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
    ...["-keyout", key, "-out", cert],
  ]);
  return { key: await readFile(key, "utf8"), cert: await readFile(cert, "utf8") };
}

let dir: string;
let server: Server;
let served: { key: string; cert: string };
let other: { key: string; cert: string };
let url: URL;

beforeAll(async () => {
  dir = await makeScratchDir("site-trust");
  [served, other] = await Promise.all([selfSigned(dir, "served"), selfSigned(dir, "other")]);
  server = createServer(served, (request, response) =>
    response
      .writeHead(request.url === "/version" ? 200 : 404, { "content-type": "application/json" })
      .end('{"release":"r1"}'),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/version`);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a GET through publicUrl", () => {
  it("fails on a self-signed certificate when none is trusted", async () => {
    await expect(siteGet(null)(url, 5_000)).rejects.toThrow();
  });

  it("answers once the certificate the host serves is trusted", async () => {
    expect(await siteGet(served.cert)(url, 5_000)).toEqual({ status: 200, body: '{"release":"r1"}' });
    expect((await siteGet(served.cert)(new URL("/nothing", url), 5_000)).status).toBe(404);
  });

  it("fails when the trusted certificate is not the one served", async () => {
    await expect(siteGet(other.cert)(url, 5_000)).rejects.toThrow(/self[- ]signed|unable to verify/i);
  });
});
