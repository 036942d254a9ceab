import { describe, expect, it } from "vitest";
import {
  DEFAULT_DOCKER_CLI_IMAGE,
  DEFAULT_DOCKERFILE,
  DEFAULT_NODE_IMAGE,
  DEFAULT_POSTGRES_IMAGE,
  DEFAULT_REDIS_IMAGE,
  DEFAULT_RUNTIME_IMAGE,
  DEFAULT_TRIVY_IMAGE,
} from "../src/lib/defaults.js";
import { isPinnedImage, parseModuleOptions } from "../src/lib/options.js";

const defaults = {
  nodeImage: DEFAULT_NODE_IMAGE,
  runtimeImage: DEFAULT_RUNTIME_IMAGE,
  postgresImage: DEFAULT_POSTGRES_IMAGE,
  redisImage: DEFAULT_REDIS_IMAGE,
  trivyImage: DEFAULT_TRIVY_IMAGE,
  dockerCliImage: DEFAULT_DOCKER_CLI_IMAGE,
  dockerfile: DEFAULT_DOCKERFILE,
};

describe("pinned images", () => {
  it.each([
    "node:20.20.2-bookworm-slim",
    "postgres:17.6-alpine",
    "aquasec/trivy:0.70.0",
    "mirror.example.com:5000/library/redis:7.4.5-alpine",
    `node@sha256:${"a".repeat(64)}`,
    `node:20.20.2-bookworm-slim@sha256:${"0123456789abcdef".repeat(4)}`,
  ])("accepts %s", (ref) => {
    expect(isPinnedImage(ref)).toBe(true);
  });

  it.each([
    "node",
    "node:latest",
    "mirror.example.com:5000/library/redis",
    "node@sha256:short",
    "Node:20",
    "node:20 ",
    "",
  ])("refuses %o, which could change under the pipeline", (ref) => {
    expect(isPinnedImage(ref)).toBe(false);
  });
});

describe("module options", () => {
  it("accepts the defaults the module ships with", () => {
    expect(parseModuleOptions(defaults)).toEqual(defaults);
  });

  it("names every bad option and says what a good one looks like", () => {
    const attempt = () =>
      parseModuleOptions({
        ...defaults,
        nodeImage: "node:latest",
        trivyImage: "aquasec/trivy",
        dockerCliImage: "docker",
        dockerfile: "../Dockerfile",
      });
    expect(attempt).toThrow(/--node-image: must be an image pinned by version or digest/);
    expect(attempt).toThrow(/--trivy-image: must be an image pinned/);
    expect(attempt).toThrow(/--docker-cli-image: must be an image pinned/);
    expect(attempt).toThrow(/--dockerfile: must be a path inside the source directory/);
  });

  it("leaves the Dockerfile to be found when none is named, and accepts one inside the source", () => {
    expect(parseModuleOptions({ ...defaults, dockerfile: "" }).dockerfile).toBe("");
    expect(parseModuleOptions({ ...defaults, dockerfile: " service/Dockerfile " }).dockerfile).toBe(
      "service/Dockerfile",
    );
  });

  it("refuses an absolute Dockerfile path: the build context is the source directory", () => {
    expect(() => parseModuleOptions({ ...defaults, dockerfile: "/etc/Dockerfile" })).toThrow(/--dockerfile:/);
  });
});
