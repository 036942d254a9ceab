/**
 * The deployer image as the Dagger module builds it, built here on a real engine: the module's own recipe
 * (dagger/src/lib/image-recipe.ts) rendered as a Dockerfile, its source the project directory with the
 * module's ignore list (SOURCE_IGNORE, the .dockerignore syntax) applied, as `dagger call` uploads it.
 *
 * Two differences, both only about speed: the recipe's cache volumes are left out (the classic builder has
 * no cache mounts), and the base images are this machine's stand-ins for the official ones.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { DEFAULT_DOCKER_CLI_IMAGE, DEFAULT_NODE_IMAGE } from "../../../dagger/src/lib/defaults.js";
import { deployerRecipe, type ImageRecipe, type RecipeStep } from "../../../dagger/src/lib/image-recipe.js";
import { SOURCE_IGNORE } from "../../../dagger/src/lib/source-scope.js";
import { MODULE_LOCKFILE } from "../../../dagger/src/lib/test-plan.js";
import { DOCKER_CLI_RECIPE, ensureStandin, RECIPES } from "../../docker/standin-images.js";

function instruction(step: RecipeStep): string {
  if ("env" in step) return `ENV ${step.env[0]}=${JSON.stringify(step.env[1])}`;
  if ("exec" in step) return `RUN ${JSON.stringify(step.exec)}`;
  if ("copyFrom" in step)
    return `COPY --from=${step.copyFrom.image} ${step.copyFrom.from} ${step.copyFrom.to}`;
  if ("source" in step) return `COPY . ${step.source}`;
  return `WORKDIR ${step.workdir}`;
}

/** The recipe as a Dockerfile whose build context is the source. */
export function dockerfileOf(recipe: ImageRecipe): string {
  return [`FROM ${recipe.from}`, ...recipe.steps.map(instruction), ""].join("\n");
}

/**
 * Builds the deployer for the project at `source` (a directory of its own: its .dockerignore is replaced by
 * the module's ignore list) and tags it `tag`.
 */
export async function buildDeployerImage(source: string, tag: string): Promise<void> {
  const recipe = deployerRecipe({
    nodeImage: DEFAULT_NODE_IMAGE,
    dockerCliImage: DEFAULT_DOCKER_CLI_IMAGE,
    hasModulePackage: existsSync(path.join(source, MODULE_LOCKFILE)),
    now: new Date(),
  });
  await ensureStandin(DEFAULT_NODE_IMAGE, RECIPES.NODE_IMAGE);
  await ensureStandin(DEFAULT_DOCKER_CLI_IMAGE, DOCKER_CLI_RECIPE);
  await writeFile(path.join(source, ".dockerignore"), `${SOURCE_IGNORE.join("\n")}\n`);
  // Default (bridge) build network: its NAT reaches Debian's archive and the npm registry, as the engine's does.
  await execa("docker", ["build", "--quiet", "--force-rm", "--tag", tag, "--file", "-", source], {
    input: dockerfileOf(recipe),
  });
}
