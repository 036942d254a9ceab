/**
 * The container the module builds to work in (the deployer), as data: a base image,
 * caches, then steps in order. src/recipe.ts applies a recipe to a Dagger container; the journey test
 * (test/journey/) renders the same recipe as a Dockerfile and builds it on a real engine, so the deployer a
 * test runs is the one the module builds, with no second copy of how.
 */
import { DEPLOYER_SYSTEM_PACKAGES, DOCKER_CLI_FILES, WORKDIR } from "./deployer.js";
import { APT_CACHES, installCommands, systemPackageSteps } from "./test-plan.js";

/** One step of a recipe, applied in order. */
export type RecipeStep =
  | { env: [name: string, value: string] }
  | { exec: string[] }
  /** A file taken from another image (the docker client from the docker CLI image). */
  | { copyFrom: { image: string; from: string; to: string } }
  /** The module's source (the repository, its ignore list applied) at this path. */
  | { source: string }
  | { workdir: string };

/** A cache kept between runs; only speed depends on it, so a build without it gives the same container. */
export interface RecipeCache {
  path: string;
  volume: string;
  /** apt takes a lock in its caches: containers sharing one wait for each other. */
  locked: boolean;
}

export interface ImageRecipe {
  from: string;
  caches: readonly RecipeCache[];
  steps: readonly RecipeStep[];
}

/** npm's download cache, shared by every install. */
export const NPM_CACHE: RecipeCache = { path: "/root/.npm", volume: "shipyard-npm-cache", locked: false };

export interface InstalledOptions {
  nodeImage: string;
  systemPackages: readonly string[];
  /** Files taken from other images, after the system packages. */
  tools?: readonly { image: string; from: string; to: string }[];
  /** The source has the Dagger module's own package (dagger/package-lock.json) to install too. */
  hasModulePackage: boolean;
  /** Decides the day apt's index is refreshed on (systemPackageSteps). */
  now: Date;
}

/** The source in a Node container with its system packages, tools and npm dependencies installed. */
export function installedRecipe(options: InstalledOptions): ImageRecipe {
  return {
    from: options.nodeImage,
    caches: [...APT_CACHES, NPM_CACHE],
    steps: [
      ...systemPackageSteps(options.systemPackages, options.now),
      ...(options.tools ?? []).map((copyFrom) => ({ copyFrom })),
      { source: WORKDIR },
      { workdir: WORKDIR },
      ...installCommands({ hasModulePackage: options.hasModulePackage }).map((exec) => ({ exec })),
    ],
  };
}

/** The deployer: the CLI's tools from Debian, and the docker client and compose plugin from the docker CLI image. */
export const deployerRecipe = (
  options: Omit<InstalledOptions, "systemPackages" | "tools"> & { dockerCliImage: string },
) =>
  installedRecipe({
    ...options,
    systemPackages: DEPLOYER_SYSTEM_PACKAGES,
    tools: DOCKER_CLI_FILES.map((file) => ({ image: options.dockerCliImage, ...file })),
  });
