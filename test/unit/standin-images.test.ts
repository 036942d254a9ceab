/** Which images the Docker tests build as stand-ins, read from the files that name them. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the fixtures are compose and Dockerfile syntax, not templates
import { describe, expect, it } from "vitest";
import {
  IMAGE_SOURCES,
  imageDefaults,
  NOT_RUN_BY_TESTS,
  nodeMajor,
  RECIPES,
  repositoryImageDefaults,
} from "../docker/standin-images.js";

describe("stand-in images", () => {
  it("reads defaults from compose variables and from Dockerfile build arguments", () => {
    const text = [
      "    image: ${POSTGRES_IMAGE:-postgres:15-bookworm}",
      "ARG NODE_IMAGE=node:20-bookworm-slim",
      "FROM ${NODE_IMAGE} AS build",
    ].join("\n");
    expect(Object.fromEntries(imageDefaults(text))).toEqual({
      POSTGRES_IMAGE: "postgres:15-bookworm",
      NODE_IMAGE: "node:20-bookworm-slim",
    });
  });

  it("has a recipe for every image the repository's files name, unless no test runs it", () => {
    const named = [...repositoryImageDefaults().keys()].sort();
    const covered = [...Object.keys(RECIPES), ...NOT_RUN_BY_TESTS];
    expect(named.filter((variable) => !covered.includes(variable))).toEqual([]);
    // The app's Dockerfile starts from the Node image: the build the e2e tests once could not do.
    expect(named).toContain("NODE_IMAGE");
    expect(named).toEqual(expect.arrayContaining(Object.keys(RECIPES)));
  });

  it("refuses a variable two files default to different images, naming both", () => {
    const files: Record<string, string> = {
      [IMAGE_SOURCES[0]]: "image: ${NODE_IMAGE:-node:20-bookworm-slim}",
      [IMAGE_SOURCES[1]]: "",
      [IMAGE_SOURCES[2]]: "ARG NODE_IMAGE=node:22-bookworm-slim",
    };
    expect(() => repositoryImageDefaults((file) => files[file] ?? "")).toThrow(
      /NODE_IMAGE defaults to node:20-bookworm-slim in compose\/compose.yaml and to node:22-bookworm-slim in app\/Dockerfile/,
    );
  });
});

describe("the Node stand-in", () => {
  it("takes its Node version from the tag, so node:24-… really runs Node 24", () => {
    expect(nodeMajor("node:24-bookworm-slim")).toBe(24);
    expect(nodeMajor("node:24.21.0-bookworm-slim")).toBe(24);
    expect(nodeMajor("mirror.local:5000/library/node:22")).toBe(22);
    expect(() => nodeMajor("node:lts-slim")).toThrow(/cannot tell the Node version of node:lts-slim/);
  });
});
