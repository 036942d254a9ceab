/**
 * Which image `deploy` releases: one already published (--image=name@sha256:…, e.g. by an earlier job's
 * `publish`), or one it tests, scans and publishes first. Where that one goes is each flag, or else what the
 * project configured: deploy/environments.yaml's `image` section, the checkout's HEAD commit, and the
 * registry password from Dagger's local defaults (.env). Decided before anything runs, with one line that
 * says what is missing and where it may come from. Whether --image is pinned by digest is the deploy CLI's
 * check (it refuses any other reference), and the values' form is parsePublishTarget's, so neither is made here.
 */
import type { ImageSettings } from "./environments.js";
import { InvalidInputError } from "./invalid-input.js";

/** The publish flags as given (empty when left out). `Password` is a Dagger Secret; only its presence matters here. */
export interface PublishFlags<Password> {
  registry: string;
  repository: string;
  username: string;
  password: Password | undefined;
  revision: string;
  sourceUrl: string;
}

/** What stands in for a flag left out: the environments file's image section and the checkout's HEAD commit. */
export type PublishDefaults = ImageSettings & { revision?: string };

/** Where an image is published, every field settled. */
export interface PublishTo<Password> {
  registry: string;
  repository: string;
  username: string;
  password: Password;
  revision: string;
  sourceUrl: string;
}

/** How the function calling this spells its password flag, and the local default that fills it. */
export interface PasswordFlag {
  flag: string;
  localDefault: string;
}

export const PUBLISH_PASSWORD: PasswordFlag = { flag: "--password", localDefault: "PUBLISH_PASSWORD" };
export const DEPLOY_PASSWORD: PasswordFlag = {
  flag: "--registry-password",
  localDefault: "DEPLOY_REGISTRYPASSWORD",
};

const given = (value: string | undefined) => (value ?? "").trim();

/** Each field from its flag, else from the defaults; everything still missing is named in one line. */
export function publishTo<Password>(
  flags: PublishFlags<Password>,
  defaults: PublishDefaults,
  password: PasswordFlag,
  what = "publish",
): PublishTo<Password> {
  const pick = (key: "registry" | "repository" | "username" | "revision" | "sourceUrl") =>
    given(flags[key]) || given(defaults[key]);
  const settled = {
    registry: pick("registry"),
    repository: pick("repository"),
    username: pick("username"),
    revision: pick("revision"),
    sourceUrl: pick("sourceUrl"),
  };
  const fromFile = (field: string) => `(or image.${field} in deploy/environments.yaml)`;
  const missing = [
    ...(settled.registry ? [] : [`--registry ${fromFile("registry")}`]),
    ...(settled.repository ? [] : [`--repository ${fromFile("repository")}`]),
    ...(settled.username ? [] : [`--username ${fromFile("username")}`]),
    ...(flags.password !== undefined
      ? []
      : [`${password.flag} (or ${password.localDefault}=env://… in .env, see .env.example)`]),
    ...(settled.revision
      ? []
      : [
          "--revision (or a checkout with .git/HEAD; a git worktree or a source without git metadata has none)",
        ]),
  ];
  if (missing.length > 0 || flags.password === undefined)
    throw new InvalidInputError(`${what} needs to know where to publish; missing: ${missing.join(", ")}`);
  return { ...settled, password: flags.password };
}

export interface DeployImageInput<Password> extends PublishFlags<Password> {
  image: string;
  defaults: PublishDefaults;
}

/** Either the image to release as given, or where to publish one first. */
export type DeployImage<Password> =
  | { publish: false; image: string }
  | { publish: true; to: PublishTo<Password> };

/**
 * The flags that ask for a new image, which --image contradicts. Not the credentials: Dagger's local defaults
 * (.env) may fill those on every call, and they change nothing about which image is released.
 */
const PUBLISH_FLAG_NAMES = {
  registry: "--registry",
  repository: "--repository",
  revision: "--revision",
} as const;

export function deployImage<Password>(input: DeployImageInput<Password>): DeployImage<Password> {
  const image = input.image.trim();
  if (image === "") return { publish: true, to: publishTo(input, input.defaults, DEPLOY_PASSWORD, "deploy") };
  // The configured defaults do not clash with --image either: only flags given beside it do.
  const clashing = (Object.keys(PUBLISH_FLAG_NAMES) as (keyof typeof PUBLISH_FLAG_NAMES)[]).filter(
    (key) => given(input[key]) !== "",
  );
  if (clashing.length > 0)
    throw new InvalidInputError(
      `--image deploys an image already published: leave out ${clashing.map((key) => PUBLISH_FLAG_NAMES[key]).join(", ")}, which publish a new one`,
    );
  return { publish: false, image };
}
