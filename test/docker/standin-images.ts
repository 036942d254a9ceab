import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

/*
 * No image can be pulled on our machines, so the stack tests build stand-ins for the official images
 * from Debian packages and tag them with the official names the compose files default to. A machine
 * that already has an image under that name (the real one, pulled earlier) keeps it.
 */

const STANDINS_DIR = join(dirname(fileURLToPath(import.meta.url)), "standins");
export const BASE_TAG = "shipyard-standin/debian:bookworm";
const RECIPE_LABEL = "org.shipyard.standin.recipe";

export interface StandinRecipe {
  /** Directory under test/docker/standins holding the Dockerfile. */
  readonly dir: string;
  /** Host paths copied into the build context, keyed by their name in the context. */
  readonly hostFiles?: Readonly<Record<string, string>>;
}

/** Which stand-in builds the image a compose variable (`${POSTGRES_IMAGE:-postgres:15-bookworm}`) names. */
export const RECIPES: Readonly<Record<string, StandinRecipe>> = {
  NODE_IMAGE: {
    dir: "node",
    hostFiles: {
      node: "/usr/bin/node",
      npm: "/usr/lib/node_modules/npm",
      "ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt",
    },
  },
  POSTGRES_IMAGE: { dir: "postgres" },
  REDIS_IMAGE: { dir: "redis" },
  NGINX_IMAGE: { dir: "nginx" },
  PROMETHEUS_IMAGE: { dir: "prometheus" },
};

/** The `${NAME_IMAGE:-default}` references in a compose file, as variable → default image. */
export function imageDefaults(composeText: string): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const match of composeText.matchAll(/\$\{([A-Z0-9_]+_IMAGE):-([^}]+)\}/g)) {
    const [, variable, image] = match;
    if (variable && image) defaults.set(variable, image);
  }
  return defaults;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** Identifies a recipe's content so an edited stand-in is rebuilt instead of served from cache. */
export function recipeHash(recipe: StandinRecipe): string {
  const hash = createHash("sha256");
  for (const file of filesUnder(join(STANDINS_DIR, recipe.dir))) {
    hash.update(file.slice(STANDINS_DIR.length)).update(readFileSync(file));
  }
  for (const [name, hostPath] of Object.entries(recipe.hostFiles ?? {})) {
    const stat = statSync(hostPath);
    hash.update(`${name}:${hostPath}:${stat.size}:${stat.mtimeMs}`);
  }
  return hash.digest("hex").slice(0, 16);
}

async function imageLabel(tag: string, label: string): Promise<string | undefined> {
  const result = await execa(
    "docker",
    ["image", "inspect", "--format", `{{index .Config.Labels "${label}"}}`, tag],
    {
      reject: false,
    },
  );
  if (result.exitCode !== 0) return undefined;
  const value = result.stdout.trim();
  return value === "<no value>" ? "" : value;
}

async function imageExists(tag: string): Promise<boolean> {
  return (await imageLabel(tag, RECIPE_LABEL)) !== undefined;
}

/** A minimal Debian bookworm root filesystem imported as an image: the base every stand-in builds on. */
export async function ensureBaseImage(): Promise<void> {
  if (await imageExists(BASE_TAG)) return;
  const work = mkdtempSync(join("/var/tmp", "standin-rootfs-"));
  const root = join(work, "rootfs");
  const tarball = join(work, "rootfs.tar");
  try {
    await execa("debootstrap", ["--variant=minbase", "bookworm", root, "http://deb.debian.org/debian"]);
    // Through a file: the tarball (~200 MB) is larger than what a piped, buffered child may hold.
    await execa("tar", ["-C", root, "-cf", tarball, "."]);
    await execa("docker", ["import", tarball, BASE_TAG]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds the stand-in for `tag` unless an image of that name exists (a real one, or this same recipe). */
export async function ensureStandin(tag: string, recipe: StandinRecipe): Promise<"kept" | "built"> {
  const hash = recipeHash(recipe);
  const label = await imageLabel(tag, RECIPE_LABEL);
  // An empty label means an image we did not build (the official one): keep it.
  if (label !== undefined && (label === "" || label === hash)) return "kept";

  await ensureBaseImage();
  const context = mkdtempSync(join(tmpdir(), `standin-${recipe.dir}-`));
  try {
    cpSync(join(STANDINS_DIR, recipe.dir), context, { recursive: true });
    for (const [name, hostPath] of Object.entries(recipe.hostFiles ?? {})) {
      cpSync(hostPath, join(context, name), { recursive: true, dereference: true });
    }
    // Default (bridge) build network: its NAT reaches Debian's archive, which the apt-get steps need.
    await execa("docker", [
      "build",
      "--force-rm",
      "--build-arg",
      `BASE=${BASE_TAG}`,
      "--label",
      `${RECIPE_LABEL}=${hash}`,
      "--tag",
      tag,
      context,
    ]);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
  return "built";
}

/** Makes sure every image a compose file defaults to exists locally, building stand-ins as needed. */
export async function ensureImagesFor(
  composeText: string,
  only?: readonly string[],
): Promise<Map<string, string>> {
  const defaults = imageDefaults(composeText);
  for (const [variable, tag] of defaults) {
    if (only && !only.includes(variable)) continue;
    const recipe = RECIPES[variable];
    if (!recipe) continue;
    await ensureStandin(tag, recipe);
  }
  return defaults;
}
