/** OCI image annotations (org.opencontainers.image.*) that tell where an image came from. */
import { z } from "zod";
import { asCliFlag, parseOrExplain } from "./invalid-input.js";

export const imageProvenanceSchema = z.object({
  created: z.date(),
  revision: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{7,64}$/, "must be a git commit hash (7 to 64 hex digits)")
    .optional(),
  sourceUrl: z
    .url({ message: "must be the repository URL, e.g. https://github.com/acme/shipyard" })
    .optional(),
  version: z.string().trim().min(1).optional(),
});

export type ImageProvenance = z.input<typeof imageProvenanceSchema>;

/** Empty strings (a CLI argument left at its default) mean "not known" and leave the label out. */
function dropEmpty(input: ImageProvenance): ImageProvenance {
  return Object.fromEntries(
    Object.entries(input).filter(([, v]) => !(typeof v === "string" && v.trim() === "")),
  ) as ImageProvenance;
}

export function ociLabels(input: ImageProvenance): Record<string, string> {
  const p = parseOrExplain(imageProvenanceSchema, dropEmpty(input), "image provenance", asCliFlag);
  const labels: Record<string, string> = { "org.opencontainers.image.created": p.created.toISOString() };
  if (p.revision !== undefined) labels["org.opencontainers.image.revision"] = p.revision;
  if (p.sourceUrl !== undefined) labels["org.opencontainers.image.source"] = p.sourceUrl;
  if (p.version !== undefined) labels["org.opencontainers.image.version"] = p.version;
  return labels;
}
