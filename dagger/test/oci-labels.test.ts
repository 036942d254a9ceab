import { describe, expect, it } from "vitest";
import { ociLabels } from "../src/lib/oci-labels.js";

const created = new Date("2026-08-20T09:00:00.000Z");

describe("OCI labels", () => {
  it("records revision, source, version and build time", () => {
    expect(
      ociLabels({
        created,
        revision: "3F9C2A1B7D4E5F60718293A4B5C6D7E8F9012345",
        sourceUrl: "https://github.com/acme/shipyard",
        version: "1.4.0",
      }),
    ).toEqual({
      "org.opencontainers.image.created": "2026-08-20T09:00:00.000Z",
      "org.opencontainers.image.revision": "3f9c2a1b7d4e5f60718293a4b5c6d7e8f9012345",
      "org.opencontainers.image.source": "https://github.com/acme/shipyard",
      "org.opencontainers.image.version": "1.4.0",
    });
  });

  it("leaves out what is not known instead of writing empty labels", () => {
    expect(ociLabels({ created, revision: "", sourceUrl: " ", version: "" })).toEqual({
      "org.opencontainers.image.created": "2026-08-20T09:00:00.000Z",
    });
  });

  it("rejects a source URL that is not a URL and a revision that is not a commit, naming the flags", () => {
    expect(() => ociLabels({ created, sourceUrl: "acme/shipyard" })).toThrow(
      /--source-url: must be the repository URL/,
    );
    expect(() => ociLabels({ created, revision: "HEAD" })).toThrow(/--revision: must be a git commit hash/);
  });
});
