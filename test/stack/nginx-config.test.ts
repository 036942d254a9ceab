import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  adaptForHost,
  prepareHostNginx,
  readNginxConfig,
  testConfig,
  upstreamConf,
} from "./support/nginx-host.js";

const layout = {
  httpPort: 18080,
  httpsPort: 18443,
  upstream: "127.0.0.1:3000",
  htmlRoot: "/srv/html",
  acmeRoot: "/srv/acme",
};

describe("nginx configuration", () => {
  const prefixes: string[] = [];
  afterEach(() => {
    for (const prefix of prefixes.splice(0)) rmSync(prefix, { recursive: true, force: true });
  });

  it("passes `nginx -t` with the real nginx", async () => {
    const { prefix } = await prepareHostNginx("127.0.0.1:3000");
    prefixes.push(prefix);
    expect(await testConfig(prefix)).toContain("test is successful");
  });

  it("is rejected by `nginx -t` when broken, so the check above means something", async () => {
    const { prefix } = await prepareHostNginx("127.0.0.1:3000");
    prefixes.push(prefix);
    writeFileSync(join(prefix, "conf.d", "upstream.conf"), "upstream app { server 127.0.0.1:3000 }\n");
    await expect(testConfig(prefix)).rejects.toThrow(/nginx -t failed/);
  });

  it("adapts only listen addresses, roots, the access log and the upstream for a host run", () => {
    const original = readNginxConfig();
    const adapted = adaptForHost(original, layout);
    const site = adapted.get("conf.d/shipyard.conf") ?? "";
    expect(site).toContain("listen 127.0.0.1:18080 default_server;");
    expect(site).toContain("listen 127.0.0.1:18443 ssl http2 default_server;");
    expect(site).not.toContain("/usr/share/nginx/html");
    expect(adapted.get("conf.d/upstream.conf")).toBe(upstreamConf(["127.0.0.1:3000"]));
    expect(adapted.get("snippets/tls.conf")).toBe(original.get("snippets/tls.conf"));
    expect(adapted.get("nginx.conf")).toBe(
      original.get("nginx.conf")?.replace("access_log /dev/stdout json", "access_log access.log json"),
    );
  });

  it("fails loudly when the configuration drifts from what the host adaptation expects", () => {
    const files = readNginxConfig();
    files.set(
      "conf.d/shipyard.conf",
      (files.get("conf.d/shipyard.conf") ?? "").replace("listen 8443", "listen 9443"),
    );
    expect(() => adaptForHost(files, layout)).toThrow(
      /no longer contains "listen 8443 ssl http2 default_server;"/,
    );
  });
});
