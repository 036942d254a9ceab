/** Names a published image: registry, repository and tags from the git revision and an optional version. */
import { z } from "zod";
import { asCliFlag, parseOrExplain } from "./invalid-input.js";

/** The OCI distribution spec's tag grammar. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Path components per the OCI distribution spec (lower case, separators between alphanumerics). */
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** A registry host name or IP, with an optional port: ghcr.io, registry.example.com:5000, localhost:5000. */
const REGISTRY =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?$/;

/** How many hex digits of the revision go into its tag (the full revision is in the image's labels). */
export const REVISION_TAG_LENGTH = 12;

export const publishTargetSchema = z.object({
  registry: z
    .string()
    .trim()
    .regex(
      REGISTRY,
      "must be a registry host with an optional port, e.g. ghcr.io or registry.example.com:5000",
    ),
  // Registries take lower-case repository paths only, while the names CI hands out keep the owner's
  // capitals ($GITHUB_REPOSITORY is Acme/Shipyard): lower-cased here rather than refused.
  repository: z
    .string()
    .trim()
    .toLowerCase()
    .regex(REPOSITORY, "must be a repository path, e.g. acme/shipyard (letters, digits, . _ - and /)"),
  revision: z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^[0-9a-f]{7,64}$/,
      "must be a git commit hash (7 to 64 hex digits), e.g. the output of git rev-parse HEAD",
    ),
  version: z
    .string()
    .trim()
    .regex(
      TAG,
      "must be a valid image tag: up to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'",
    )
    .optional(),
});

export type PublishTarget = z.output<typeof publishTargetSchema>;

export function parsePublishTarget(input: z.input<typeof publishTargetSchema>): PublishTarget {
  const withoutEmptyVersion = input.version?.trim() === "" ? { ...input, version: undefined } : input;
  return parseOrExplain(publishTargetSchema, withoutEmptyVersion, "publish arguments", asCliFlag);
}

/** The tags an image is pushed under: `sha-<revision>`, then the version when one is given. */
export function imageTags(target: Pick<PublishTarget, "revision" | "version">): string[] {
  const tags = [`sha-${target.revision.slice(0, REVISION_TAG_LENGTH)}`];
  if (target.version !== undefined && !tags.includes(target.version)) tags.push(target.version);
  return tags;
}

export function imageReferences(target: PublishTarget): string[] {
  const name = `${target.registry}/${target.repository}`;
  if (name.length > 255) {
    throw new Error(`image name ${name} is longer than the 255 characters registries accept`);
  }
  return imageTags(target).map((tag) => `${name}:${tag}`);
}
