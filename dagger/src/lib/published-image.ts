/**
 * What a publish pushed, as data: deploy takes the reference it releases from here, and only the publish
 * function turns it into text for the person who called it.
 */
import type { PublishDecision } from "./publish-gate.js";

export interface PublishedImage {
  /** The image pinned by digest under its first tag (sha-<revision>): the reference a deploy releases. */
  pinned: string;
  /** Every pushed reference with its digest, in the order pushed; `pinned` first. */
  references: readonly string[];
  /** Why the image went out although a check failed (--allow-failed-checks); absent when all passed. */
  overridden?: string;
}

/** Names the pushes (each `name:tag@sha256:…`, as the registry answered) and why they were allowed. */
export function publishedImage(references: readonly string[], decision: PublishDecision): PublishedImage {
  const [pinned] = references;
  if (pinned === undefined) throw new Error("publish pushed no reference");
  return { pinned, references, ...(decision.overridden ? { overridden: decision.reason } : {}) };
}

/** publish's answer: each pushed reference, one per line, after the override's reason when there was one. */
export function publishReport(image: PublishedImage): string {
  return [...(image.overridden ? [image.overridden] : []), ...image.references].join("\n");
}
