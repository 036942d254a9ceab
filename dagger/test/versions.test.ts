/**
 * One Postgres major and one supported Node LTS by default in every image: the module's tests and
 * deployer, the production image and the compose stacks.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_NODE_IMAGE, DEFAULT_POSTGRES_IMAGE } from "../src/lib/defaults.js";
import { DEPLOYER_POSTGRES_CLIENT_MAJOR } from "../src/lib/deployer.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

/** End of life of each Node LTS line, from https://nodejs.org/en/about/previous-releases. */
const NODE_LTS_END_OF_LIFE: Record<number, string> = {
  20: "2026-04-30",
  22: "2027-04-30",
  24: "2028-04-30",
};
/** End of life of each Postgres major, from https://www.postgresql.org/support/versioning/. */
const POSTGRES_END_OF_LIFE: Record<number, string> = {
  15: "2027-11-11",
  16: "2028-11-09",
  17: "2029-11-08",
};

/** The `${NAME:-default}` defaults a compose file gives its images and build arguments. */
function composeDefaults(file: string): Record<string, string> {
  return Object.fromEntries(
    [...read(file).matchAll(/\$\{([A-Z0-9_]+_IMAGE):-([^}]+)\}/g)].map(([, name, image]) => [name, image]),
  );
}

const major = (image: string, name: "node" | "postgres") => {
  const tag = new RegExp(`(?:^|/)${name}:(\\d+)`).exec(image)?.[1];
  if (!tag) throw new Error(`${image}: expected a ${name}:<major>… tag`);
  return Number(tag);
};

describe("default versions", () => {
  const nodeImages = {
    "dagger/src/lib/defaults.ts": DEFAULT_NODE_IMAGE,
    "app/Dockerfile": /^ARG NODE_IMAGE=(\S+)$/m.exec(read("app/Dockerfile"))?.[1] ?? "",
    "compose/compose.dev.yaml": composeDefaults("compose/compose.dev.yaml").NODE_IMAGE ?? "",
  };
  const postgresImages = {
    "dagger/src/lib/defaults.ts": DEFAULT_POSTGRES_IMAGE,
    "compose/compose.yaml": composeDefaults("compose/compose.yaml").POSTGRES_IMAGE ?? "",
  };

  it("one Node major everywhere, an LTS line that has not reached its end of life", () => {
    const majors = Object.entries(nodeImages).map(([file, image]) => `${file}: ${major(image, "node")}`);
    const [first = 0] = Object.values(nodeImages).map((image) => major(image, "node"));
    expect(majors).toEqual(Object.keys(nodeImages).map((file) => `${file}: ${first}`));
    const endOfLife = NODE_LTS_END_OF_LIFE[first];
    expect(endOfLife, `Node ${first} is not an LTS line listed here`).toBeDefined();
    expect(
      new Date(`${endOfLife}T00:00:00Z`).getTime() > Date.now(),
      `Node ${first} reached its end of life on ${endOfLife}: move every default to the current LTS`,
    ).toBe(true);
  });

  it("one Postgres major everywhere, no newer than the deployer's pg_dump, and supported", () => {
    const majors = Object.values(postgresImages).map((image) => major(image, "postgres"));
    expect(new Set(majors).size, JSON.stringify(postgresImages)).toBe(1);
    const [pg = 0] = majors;
    expect(pg).toBe(DEPLOYER_POSTGRES_CLIENT_MAJOR);
    // The deployer's client is bookworm's only while the deployer's Node image is bookworm.
    expect(DEFAULT_NODE_IMAGE).toMatch(/-bookworm/);
    const endOfLife = POSTGRES_END_OF_LIFE[pg];
    expect(
      new Date(`${endOfLife}T00:00:00Z`).getTime() > Date.now(),
      `Postgres ${pg} ends ${endOfLife}`,
    ).toBe(true);
    // The module's default is the stack's own tag: the tests' server, the backup check's and production's.
    expect(DEFAULT_POSTGRES_IMAGE).toBe(postgresImages["compose/compose.yaml"]);
  });
});
