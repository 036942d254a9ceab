/** The upstream file the release writes is valid for real nginx, and lands by rename (never half-written). */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, expect, it } from "vitest";
import { COMMAND_SECONDS } from "../../../test/harness/deadline.js";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";
import { readUpstream, upstreamConf, writeUpstream } from "../../src/commands/nginx.js";
import { localRunner } from "../../src/runner.js";
import { localEnvironment } from "../support/environment.js";

let dir: string;
beforeEach(async () => {
  dir = await makeScratchDir("upstream");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("nginx -t accepts the written upstream, and the temporary file is gone", async () => {
  const confDir = path.join(dir, "conf.d");
  await mkdir(confDir);
  await writeFile(
    path.join(dir, "nginx.conf"),
    `pid ${dir}/nginx.pid;
error_log stderr;
events {}
http {
  include ${confDir}/*.conf;
  server { listen 127.0.0.1:1; location / { proxy_pass http://app; } }
}
`,
  );
  const env = localEnvironment(dir);
  env.compose.nginxConfDirectory = confDir;
  const runner = localRunner(COMMAND_SECONDS);

  await runner.run(writeUpstream(env, upstreamConf("localhost", [], 3000)));
  // A second write replaces the first whole.
  await runner.run(writeUpstream(env, upstreamConf("127.0.0.1", [], 3001)));

  expect(await readdir(confDir)).toEqual(["upstream.conf"]);
  expect((await runner.run(readUpstream(env))).stdout).toBe(
    await readFile(path.join(confDir, "upstream.conf"), "utf8"),
  );
  expect((await runner.run(readUpstream(env))).stdout).toContain("server 127.0.0.1:3001 ");
  const check = await execa("nginx", ["-t", "-p", dir, "-c", path.join(dir, "nginx.conf")], {
    reject: false,
    all: true,
  });
  expect(check.all).toContain("syntax is ok");
  expect(check.exitCode).toBe(0);
});
