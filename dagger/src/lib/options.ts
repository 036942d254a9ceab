/** The module's shared options (images, Dockerfile), validated once when the module is constructed. */
import { z } from "zod";
import { asCliFlag, parseOrExplain } from "./invalid-input.js";

const IMAGE_NAME = /^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True when `ref` names an image by an explicit tag (not `latest`) or by digest, so every run pulls the same bits. */
export function isPinnedImage(ref: string): boolean {
  const [nameAndTag = "", digest] = ref.split("@", 2);
  if (digest !== undefined && !DIGEST.test(digest)) return false;
  const lastSlash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.indexOf(":", lastSlash + 1);
  const name = colon === -1 ? nameAndTag : nameAndTag.slice(0, colon);
  const tag = colon === -1 ? undefined : nameAndTag.slice(colon + 1);
  if (!IMAGE_NAME.test(name)) return false;
  if (tag !== undefined && (!TAG.test(tag) || tag === "latest")) return false;
  return tag !== undefined || digest !== undefined;
}

const pinnedImage = z.string().trim().refine(isPinnedImage, {
  message:
    "must be an image pinned by version or digest, e.g. node:20.20.2-bookworm-slim or name@sha256:<64 hex>",
});

/** Empty: the module finds the Dockerfile itself (lib/app-build.ts). */
const dockerfilePath = z
  .string()
  .trim()
  .refine((p) => p === "" || (!p.startsWith("/") && !p.split("/").includes("..")), {
    message: "must be a path inside the source directory (relative, without '..'), e.g. app/Dockerfile",
  });

export const moduleOptionsSchema = z.object({
  nodeImage: pinnedImage,
  runtimeImage: pinnedImage,
  postgresImage: pinnedImage,
  redisImage: pinnedImage,
  trivyImage: pinnedImage,
  dockerCliImage: pinnedImage,
  dockerfile: dockerfilePath,
});

export type ModuleOptions = z.output<typeof moduleOptionsSchema>;

export function parseModuleOptions(input: z.input<typeof moduleOptionsSchema>): ModuleOptions {
  return parseOrExplain(moduleOptionsSchema, input, "module options", asCliFlag);
}
