/**
 * The production image as app/Dockerfile builds it: the service and its healthcheck run with node alone,
 * as a non-root user, and the package managers of the base image are gone (they are the usual source of
 * HIGH findings in `dagger call scan`, and a tool to fetch more code).
 */
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAppImage } from "../docker/standin-images.js";

const IMAGE = `shipyard-app-image-test:${randomBytes(4).toString("hex")}`;
beforeAll(async () => {
  await buildAppImage(IMAGE);
});

afterAll(async () => {
  await execa("docker", ["image", "rm", "--force", IMAGE], { reject: false });
});

const inImage = (script: string) =>
  execa("docker", ["run", "--rm", "--entrypoint", "sh", IMAGE, "-c", script], { reject: false });

describe("the production image", () => {
  it("has no npm, npx, corepack or yarn", async () => {
    const { stdout, exitCode } = await inImage(
      "for tool in npm npx corepack yarn yarnpkg; do command -v $tool; done; ls -d /usr/local/lib/node_modules/* 2>/dev/null; true",
    );
    expect(exitCode).toBe(0);
    expect(stdout.trim()).toBe("");
  });

  it("starts and checks its health with node, as a user other than root", async () => {
    const { stdout } = await execa("docker", ["image", "inspect", "--format", "{{json .Config}}", IMAGE]);
    const config = JSON.parse(stdout) as { User: string; Cmd: string[]; Healthcheck: { Test: string[] } };
    expect(config.User).toBe("node");
    expect(config.Cmd[0]).toBe("node");
    expect(config.Healthcheck.Test.slice(0, 2)).toEqual(["CMD", "node"]);
    const { stdout: version } = await inImage("id -u && node --version");
    const [uid, node] = version.trim().split("\n");
    expect(uid).not.toBe("0");
    expect(node).toMatch(/^v\d+\./);
  });
});
