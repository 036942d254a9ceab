/**
 * Which image `deploy` releases: one already published (--image=name@sha256:…, e.g. by an earlier job's
 * `publish`), or one it tests, scans and publishes first from the registry arguments. Decided before
 * anything runs, with one line that says what to pass.
 */
import { InvalidInputError } from "./invalid-input.js";

export interface DeployImageInput {
  image: string;
  registry: string;
  repository: string;
  username: string;
  hasRegistryPassword: boolean;
  revision: string;
}

export type DeployImage = { publish: false; image: string } | { publish: true };

/** name[:tag]@sha256:<64 hex>: what `publish` prints, and the only form a deploy pulls. */
export const PINNED_REFERENCE = /^[^\s@]+@sha256:[a-f0-9]{64}$/;

const PUBLISH_FLAGS = {
  registry: "--registry",
  repository: "--repository",
  username: "--username",
  hasRegistryPassword: "--registry-password",
  revision: "--revision",
} as const;

export function deployImage(input: DeployImageInput): DeployImage {
  const image = input.image.trim();
  const given = (Object.keys(PUBLISH_FLAGS) as (keyof typeof PUBLISH_FLAGS)[]).filter((key) =>
    key === "hasRegistryPassword" ? input.hasRegistryPassword : input[key].trim() !== "",
  );
  if (image !== "") {
    if (!PINNED_REFERENCE.test(image))
      throw new InvalidInputError(
        `--image: must be an image pinned by digest, e.g. ghcr.io/acme/shop@sha256:<64 hex> (publish prints it), not "${image}"`,
      );
    if (given.length > 0)
      throw new InvalidInputError(
        `--image deploys an image already published: leave out ${given.map((key) => PUBLISH_FLAGS[key]).join(", ")}, which publish a new one`,
      );
    return { publish: false, image };
  }
  const missing = (Object.keys(PUBLISH_FLAGS) as (keyof typeof PUBLISH_FLAGS)[]).filter(
    (key) => !given.includes(key),
  );
  if (missing.length > 0)
    throw new InvalidInputError(
      `deploy needs --image=name@sha256:… (an image already published), or ${Object.values(PUBLISH_FLAGS).join(", ")} to test, scan and publish one first (missing: ${missing.map((key) => PUBLISH_FLAGS[key]).join(", ")})`,
    );
  return { publish: true };
}
