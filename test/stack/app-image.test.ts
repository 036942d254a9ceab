/**
 * The production image as app/Dockerfile builds it: the node binary, the service and its production
 * dependencies on a distroless runtime, and nothing else. No shell, no package manager (the usual source of
 * HIGH findings in `dagger call scan`, and a tool to fetch more code), no type packages; it runs and checks
 * its health with node alone, as a user other than root, and stays under 200 MB.
 */
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../docker/standin-images.js";

const IMAGE = `shipyard-app-image-test:${randomBytes(4).toString("hex")}`;
let files: string[] = [];

beforeAll(async () => {
  await buildAppImage(IMAGE);
  // The image's filesystem as a list, read without running anything in it (it has no shell to run).
  const { stdout: container } = await execa("docker", ["create", IMAGE]);
  try {
    const listing = await execa("sh", ["-c", 'docker export "$1" | tar -t', "list", container.trim()], {
      maxBuffer: 64 * 2 ** 20,
    });
    files = listing.stdout.split("\n").map((name) => `/${name.replace(/^\.?\//, "")}`);
  } finally {
    await execa("docker", ["rm", container.trim()]);
  }
});

afterAll(async () => {
  await execa("docker", ["image", "rm", "--force", IMAGE], { reject: false });
});

describe("the production image", () => {
  it("holds node and the service, without a shell, package managers or type declarations", () => {
    expect(files).toContain("/usr/local/bin/node");
    expect(files).toContain("/srv/app/dist/cli.js");
    const unwanted = files.filter((file) =>
      /^\/(usr\/)?bin\/(sh|bash|dash)$|\/(npm|npx|corepack|yarn)(\/|$)|\/node_modules\/@types\/|\.d\.[cm]?ts$/.test(
        file,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it("keeps the files Swagger UI serves at /docs through the dependencies' pruning", () => {
    const served = ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "index.css"];
    const present = files.filter((file) => /\/node_modules\/@fastify\/swagger-ui\/static\/[^/]+$/.test(file));
    expect(present.map((file) => file.split("/").at(-1))).toEqual(expect.arrayContaining(served));
  });

  it("starts and checks its health with node, as a user other than root", async () => {
    const { stdout } = await execa("docker", ["image", "inspect", "--format", "{{json .Config}}", IMAGE]);
    const config = JSON.parse(stdout) as { User: string; Cmd: string[]; Healthcheck: { Test: string[] } };
    expect(config.Cmd[0]).toBe("node");
    expect(config.Healthcheck.Test.slice(0, 2)).toEqual(["CMD", "node"]);
    const { stdout: identity } = await execa("docker", [
      "run",
      "--rm",
      IMAGE,
      "node",
      "-e",
      "console.log(process.getuid(), process.version)",
    ]);
    const [uid, version] = identity.trim().split(" ");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(version).toMatch(/^v\d+\./);
  });

  it("is under 200 MB", async () => {
    const { stdout } = await execa("docker", ["image", "inspect", "--format", "{{.Size}}", IMAGE]);
    console.log(`the app image: ${(Number(stdout) / 1e6).toFixed(0)} MB`);
    expect(Number(stdout)).toBeLessThan(200e6);
  });
});
