/**
 * Which image `deploy` releases: one already published (--image=name@sha256:…, e.g. by an earlier job's
 * `publish`), or one it tests, scans and publishes first from the registry arguments. Decided before
 * anything runs, with one line that says what to pass. Whether --image is pinned by digest is the deploy
 * CLI's check (it refuses any other reference), so it is not made here a second time.
 */
import { InvalidInputError } from "./invalid-input.js";

/** `Password` is the registry password as the caller holds it (a Dagger Secret); only its presence matters here. */
export interface DeployImageInput<Password> {
  image: string;
  registry: string;
  repository: string;
  username: string;
  registryPassword: Password | undefined;
  revision: string;
}

/** Either the image to release as given, or the go-ahead to publish one, with the password that needs. */
export type DeployImage<Password> =
  | { publish: false; image: string }
  | { publish: true; registryPassword: Password };

const PUBLISH_FLAGS = {
  registry: "--registry",
  repository: "--repository",
  username: "--username",
  registryPassword: "--registry-password",
  revision: "--revision",
} as const;

export function deployImage<Password>(input: DeployImageInput<Password>): DeployImage<Password> {
  const image = input.image.trim();
  const given = (Object.keys(PUBLISH_FLAGS) as (keyof typeof PUBLISH_FLAGS)[]).filter((key) =>
    key === "registryPassword" ? input.registryPassword !== undefined : input[key].trim() !== "",
  );
  if (image !== "") {
    if (given.length > 0)
      throw new InvalidInputError(
        `--image deploys an image already published: leave out ${given.map((key) => PUBLISH_FLAGS[key]).join(", ")}, which publish a new one`,
      );
    return { publish: false, image };
  }
  const missing = (Object.keys(PUBLISH_FLAGS) as (keyof typeof PUBLISH_FLAGS)[]).filter(
    (key) => !given.includes(key),
  );
  const { registryPassword } = input;
  if (missing.length > 0 || registryPassword === undefined)
    throw new InvalidInputError(
      `deploy needs --image=name@sha256:… (an image already published), or ${Object.values(PUBLISH_FLAGS).join(", ")} to test, scan and publish one first (missing: ${missing.map((key) => PUBLISH_FLAGS[key]).join(", ")})`,
    );
  return { publish: true, registryPassword };
}
