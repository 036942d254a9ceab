/** Which Dockerfile is built, and with which build arguments, for the image and its test stage alike. */
import { describe, expect, it } from "vitest";
import { chooseDockerfile, imageBuildArgs } from "../src/lib/app-build.js";
import { InvalidInputError } from "../src/lib/invalid-input.js";

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
  it("hand the Node image to the Dockerfile's NODE_IMAGE", () => {
    expect(imageBuildArgs({ nodeImage: "node:24.21.0-bookworm-slim" })).toEqual([
      { name: "NODE_IMAGE", value: "node:24.21.0-bookworm-slim" },
    ]);
  });
});
