/**
 * How the app's Dockerfile is built, for the production image and for its test stage alike: which
 * Dockerfile, and the build arguments that let a pinned digest or an offline mirror replace its base images.
 */
import { InvalidInputError } from "./invalid-input.js";

/**
 * Where the Dockerfile is looked for when --dockerfile is left out, in order: this repository's layout (an
 * npm workspace built from the root), then the usual one of a single service (examples/fastapi).
 */
export const DOCKERFILE_CANDIDATES: readonly string[] = ["app/Dockerfile", "Dockerfile"];

/** The Dockerfile given, or else the first candidate the source has; with none, one line saying what to pass. */
export function chooseDockerfile(given: string, present: readonly string[]): string {
  if (given !== "") return given;
  const found = DOCKERFILE_CANDIDATES.find((candidate) => present.includes(candidate));
  if (found === undefined)
    throw new InvalidInputError(
      `--dockerfile: the source has neither ${DOCKERFILE_CANDIDATES.join(" nor ")}; name the one to build, e.g. --dockerfile=service/Dockerfile`,
    );
  return found;
}

export interface BuildArg {
  name: string;
  value: string;
}

/**
 * The images the Dockerfile starts from, as the build arguments app/Dockerfile declares (ARG NODE_IMAGE,
 * ARG RUNTIME_IMAGE). A Dockerfile that declares neither ignores them.
 */
export function imageBuildArgs(images: { nodeImage: string; runtimeImage: string }): BuildArg[] {
  return [
    { name: "NODE_IMAGE", value: images.nodeImage },
    { name: "RUNTIME_IMAGE", value: images.runtimeImage },
  ];
}
