/** The container the module builds to work in, as data: what the deployer is made of, in order. */
import { describe, expect, it } from "vitest";
import { DEPLOYER_SYSTEM_PACKAGES, DOCKER_CLI_FILES, WORKDIR } from "../src/lib/deployer.js";
import { deployerRecipe, NPM_CACHE } from "../src/lib/image-recipe.js";
import { APT_CACHES } from "../src/lib/test-plan.js";

const now = new Date("2026-12-02T10:00:00Z");
const aptInstall = (packages: readonly string[]) => ({
  exec: ["apt-get", "install", "-y", "-q", "--no-install-recommends", ...packages],
});

describe("the deployer's recipe", () => {
  const recipe = deployerRecipe({
    nodeImage: "node:24-bookworm-slim",
    dockerCliImage: "docker:28.2.2-cli",
    hasModulePackage: true,
    now,
  });

  it("starts from the Node image, with apt's and npm's caches", () => {
    expect(recipe.from).toBe("node:24-bookworm-slim");
    expect(recipe.caches).toEqual([...APT_CACHES, NPM_CACHE]);
  });

  it("installs the CLI's Debian tools, then takes the docker client and compose plugin from the docker CLI image", () => {
    const install = recipe.steps.findIndex(
      (s) => JSON.stringify(s) === JSON.stringify(aptInstall(DEPLOYER_SYSTEM_PACKAGES)),
    );
    const copies = recipe.steps.filter((s) => "copyFrom" in s);
    expect(install).toBeGreaterThanOrEqual(0);
    expect(copies).toEqual(
      DOCKER_CLI_FILES.map((file) => ({ copyFrom: { image: "docker:28.2.2-cli", ...file } })),
    );
    expect(recipe.steps.indexOf(copies[0] ?? { workdir: "" })).toBeGreaterThan(install);
  });

  it("ends with the source at the work directory and its dependencies installed there, the module's too", () => {
    expect(recipe.steps.slice(-4)).toEqual([
      { source: WORKDIR },
      { workdir: WORKDIR },
      { exec: ["npm", "ci", "--no-audit", "--no-fund"] },
      { exec: ["npm", "ci", "--prefix", "dagger", "--no-audit", "--no-fund"] },
    ]);
  });
});
