/** Which Dockerfile is built, and with which build arguments, for the image and its test stage alike. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { chooseDockerfile, imageBuildArgs } from "../src/lib/app-build.js";
import { DEFAULT_RUNTIME_IMAGE } from "../src/lib/defaults.js";
import { InvalidInputError } from "../src/lib/invalid-input.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("the Dockerfile", () => {
  it("is the one named, whatever the source has", () => {
    expect(chooseDockerfile("service/Dockerfile", [])).toBe("service/Dockerfile");
  });

  it("left out, is this repository's app/Dockerfile, or else a single service's Dockerfile at the root", () => {
    expect(chooseDockerfile("", ["app/Dockerfile", "Dockerfile"])).toBe("app/Dockerfile");
    expect(chooseDockerfile("", ["Dockerfile"])).toBe("Dockerfile");
  });

  it("left out of a source with neither, is asked for in one line", () => {
    const attempt = () => chooseDockerfile("", []);
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(
      /^--dockerfile: the source has neither app\/Dockerfile nor Dockerfile; name the one to build, e\.g\. --dockerfile=service\/Dockerfile$/,
    );
  });
});

describe("the build arguments", () => {
  it("hand the Node and runtime images to the Dockerfile's NODE_IMAGE and RUNTIME_IMAGE", () => {
    const mirror = "mirror.example.com:5000/distroless/cc-debian12:nonroot";
    expect(imageBuildArgs({ nodeImage: "node:24.21.0-bookworm-slim", runtimeImage: mirror })).toEqual([
      { name: "NODE_IMAGE", value: "node:24.21.0-bookworm-slim" },
      { name: "RUNTIME_IMAGE", value: mirror },
    ]);
  });

  it("default the runtime image to app/Dockerfile's own RUNTIME_IMAGE", () => {
    const dockerfile = readFileSync(path.join(repoRoot, "app/Dockerfile"), "utf8");
    expect(/^ARG RUNTIME_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]).toBe(DEFAULT_RUNTIME_IMAGE);
  });
});
