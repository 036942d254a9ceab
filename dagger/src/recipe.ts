/** An image recipe (lib/image-recipe.ts) applied to a Dagger container: each step as the matching call. */
import { CacheSharingMode, type Container, type Directory, dag } from "@dagger.io/dagger";
import type { ImageRecipe, RecipeStep } from "./lib/image-recipe.js";

function applyStep(container: Container, step: RecipeStep, source: Directory): Container {
  if ("env" in step) return container.withEnvVariable(...step.env);
  if ("exec" in step) return container.withExec(step.exec);
  if ("copyFrom" in step)
    return container.withFile(
      step.copyFrom.to,
      dag.container().from(step.copyFrom.image).file(step.copyFrom.from),
    );
  if ("source" in step) return container.withDirectory(step.source, source);
  return container.withWorkdir(step.workdir);
}

export function containerFrom(recipe: ImageRecipe, source: Directory): Container {
  const withCaches = recipe.caches.reduce(
    (container, { path, volume, locked }) =>
      container.withMountedCache(path, dag.cacheVolume(volume), {
        sharing: locked ? CacheSharingMode.Locked : CacheSharingMode.Shared,
      }),
    dag.container().from(recipe.from),
  );
  return recipe.steps.reduce((container, step) => applyStep(container, step, source), withCaches);
}
