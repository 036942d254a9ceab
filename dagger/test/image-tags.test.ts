import { describe, expect, it } from "vitest";
import { imageReferences, imageTags, parsePublishTarget } from "../src/lib/image-tags.js";

const revision = "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345";

describe("image tags", () => {
  it("tags by the first 12 digits of the revision, then by the version when given", () => {
    expect(
      imageTags(parsePublishTarget({ registry: "ghcr.io", repository: "acme/shipyard", revision })),
    ).toEqual(["sha-3f9c2a1b7d4e"]);
    expect(
      imageTags(
        parsePublishTarget({ registry: "ghcr.io", repository: "acme/shipyard", revision, version: "1.4.0" }),
      ),
    ).toEqual(["sha-3f9c2a1b7d4e", "1.4.0"]);
  });

  it("treats an empty version (a CLI argument left at its default) as no version", () => {
    const target = parsePublishTarget({
      registry: "ghcr.io",
      repository: "acme/shipyard",
      revision,
      version: "",
    });
    expect(imageTags(target)).toEqual(["sha-3f9c2a1b7d4e"]);
  });

  it("accepts an upper-case revision and a short one, as git prints them", () => {
    expect(
      imageTags(parsePublishTarget({ registry: "ghcr.io", repository: "a/b", revision: "3F9C2A1" })),
    ).toEqual(["sha-3f9c2a1"]);
  });

  it("lower-cases the repository, as registries require and $GITHUB_REPOSITORY is not", () => {
    const target = parsePublishTarget({ registry: "ghcr.io", repository: " Acme/Shipyard ", revision });
    expect(target.repository).toBe("acme/shipyard");
    expect(imageReferences(target)).toEqual(["ghcr.io/acme/shipyard:sha-3f9c2a1b7d4e"]);
  });

  it("builds full references, with a registry port when there is one", () => {
    const target = parsePublishTarget({
      registry: "registry.example.com:5000",
      repository: "team/web-api",
      revision,
      version: "v2.0.0-rc.1",
    });
    expect(imageReferences(target)).toEqual([
      "registry.example.com:5000/team/web-api:sha-3f9c2a1b7d4e",
      "registry.example.com:5000/team/web-api:v2.0.0-rc.1",
    ]);
  });
});

describe("rejecting what a registry would refuse, naming the flag", () => {
  const base = { registry: "ghcr.io", repository: "acme/shipyard", revision };

  it.each([
    [{ ...base, version: "1.4.0+build.7" }, /--version: must be a valid image tag/],
    [{ ...base, version: ".hidden" }, /--version: must be a valid image tag/],
    [{ ...base, version: "x".repeat(129) }, /--version: must be a valid image tag/],
    [{ ...base, repository: "acme shipyard" }, /--repository: must be a repository path/],
    [{ ...base, repository: "acme//shipyard" }, /--repository:/],
    [{ ...base, registry: "https://ghcr.io" }, /--registry: must be a registry host/],
    [{ ...base, revision: "main" }, /--revision: must be a git commit hash/],
    [{ ...base, revision: "" }, /--revision: must be a git commit hash/],
  ])("%o", (input, message) => {
    expect(() => parsePublishTarget(input)).toThrow(message);
  });

  it("lists every bad field at once", () => {
    expect(() => parsePublishTarget({ registry: "ghcr.io", repository: "a b", revision: "nope" })).toThrow(
      /--repository:.*\n.*revision:/s,
    );
  });

  it("accepts the longest valid tag, 128 characters", () => {
    const version = `v${"1".repeat(127)}`;
    expect(imageTags(parsePublishTarget({ ...base, version }))).toContain(version);
  });
});
