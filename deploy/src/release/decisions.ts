/** The small decisions a deploy and a rollback make from what the host reports; pure. */
import { z } from "zod";
import type { ReleaseRecord } from "../commands/ledger.js";

/** A tag can move between deploy and rollback; a digest cannot, so only digests are deployed. */
export function requirePinnedImage(ref: string): string {
  if (!/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(`--image must be pinned by digest (name@sha256:<64 hex>), got "${ref}"`);
  }
  return ref;
}

const psLine = z.object({ ID: z.string(), Names: z.string(), Image: z.string(), State: z.string() });
export interface AppContainer {
  id: string;
  name: string;
  image: string;
  state: string;
}

export function parseContainers(stdout: string): AppContainer[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const c = psLine.parse(JSON.parse(l));
      return { id: c.ID, name: c.Names, image: c.Image, state: c.State };
    });
}

/** The container `startBeside` made: the one running now that was not there before. */
export function newContainer(before: readonly AppContainer[], after: readonly AppContainer[]): AppContainer {
  const known = new Set(before.map((c) => c.id));
  const fresh = after.filter((c) => !known.has(c.id));
  if (fresh.length !== 1) {
    throw new Error(
      `expected exactly one new app container after starting the release, found ${fresh.length}` +
        (fresh.length ? `: ${fresh.map((c) => c.name).join(", ")}` : ""),
    );
  }
  return fresh[0] as AppContainer;
}

/**
 * A host where no app container has run and compose has made no volume holds no data of the stack: a
 * first release, with nothing to back up. Containers alone would not do: `compose down` removes them and
 * keeps the volumes, the data with them.
 */
export function holdsNoData(containers: readonly AppContainer[], volumes: readonly string[]): boolean {
  return containers.length === 0 && volumes.length === 0;
}

/**
 * From `docker inspect` "<status> <health>", asked while a release waits for its container to be ready:
 * why waiting longer is pointless (it exited, restarts, or Docker's own healthcheck already gave up on
 * it), or undefined while it may still become ready.
 */
/**
 * What follows `docker exec <id>` to run a container's healthcheck, from `docker inspect`'s JSON of its
 * Config.Healthcheck: `["CMD", …]` as is, `["CMD-SHELL", "…"]` through the image's sh; none (no
 * HEALTHCHECK, or `NONE`) is undefined, for the caller to refuse.
 */
export function healthcheckCommand(json: string): readonly string[] | undefined {
  const test = (JSON.parse(json.trim() || "null") as { Test?: string[] } | null)?.Test ?? [];
  const [kind, ...rest] = test;
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest[0]) return ["/bin/sh", "-c", rest[0]];
  return undefined;
}

export function notReadyReason(line: string): string | undefined {
  const [status = "", health = ""] = line.trim().split(/\s+/);
  if (status !== "running") return `the container is ${status || "gone"}`;
  if (health === "unhealthy") return "its healthcheck reports unhealthy";
  return undefined;
}

/**
 * A release name becomes part of paths (the configuration snapshot) and what /version shows; it stays
 * a plain word, so no shell, file system or log reader ever has to quote it.
 */
export function requireReleaseName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new Error(
      `--release must be a release name (letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** `name@sha256:…` as the ledger keeps it: name and digest apart. */
export function splitPinned(ref: string): { image: string; digest: string } {
  const at = ref.lastIndexOf("@");
  return { image: ref.slice(0, at), digest: ref.slice(at + 1) };
}

/** Bytes available, from `df --output=avail -B1` (a header line, then the number). */
export function parseFreeBytes(stdout: string): number {
  const value = Number(stdout.trim().split("\n").at(-1)?.trim());
  if (!Number.isFinite(value))
    throw new Error(`cannot read free disk space from df: ${JSON.stringify(stdout)}`);
  return value;
}

export const MIN_FREE_BYTES = 2 * 1024 ** 3;

export function defaultReleaseName(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replaceAll(/[-:]/g, "");
}

/** The newest release that succeeded: a failed or rolled-back one never became (or stayed) current. */
export function currentRelease(newestLast: readonly ReleaseRecord[]): ReleaseRecord | null {
  return [...newestLast].reverse().find((r) => r.result === "succeeded") ?? null;
}

/**
 * Which release `rollback` brings back: the one named by --to (it must have succeeded once), or else
 * the newest succeeded release before the current one that ran a different image.
 */
export function rollbackTarget(newestLast: readonly ReleaseRecord[], to: string | undefined): ReleaseRecord {
  const succeeded = newestLast.filter((r) => r.result === "succeeded");
  if (to !== undefined) {
    const named = [...succeeded].reverse().find((r) => r.release === to);
    if (!named) {
      const known = [...new Set(succeeded.map((r) => r.release))].join(", ") || "none";
      throw new Error(
        `--to=${to}: no succeeded release of that name in the ledger; succeeded releases: ${known}`,
      );
    }
    return named;
  }
  const current = currentRelease(newestLast);
  if (!current) throw new Error("nothing to roll back to: the ledger has no succeeded release");
  const earlier = [...succeeded].reverse().find((r) => r.digest !== current.digest);
  if (!earlier) {
    throw new Error(`nothing to roll back to: ${current.release} is the only image that ever succeeded`);
  }
  return earlier;
}

/** A rollback is a release of an earlier image: no migration (it runs on the schema as it is), noted as such. */
export function rollbackRequest(
  newestLast: readonly ReleaseRecord[],
  to: string | undefined,
): { image: string; release: string; migrate: false; note: string } {
  const target = rollbackTarget(newestLast, to);
  const from = currentRelease(newestLast);
  return {
    image: `${target.image}@${target.digest}`,
    release: target.release,
    migrate: false,
    note: `rollback${from ? ` from ${from.release}` : ""}`,
  };
}

/** What nginx logged for the watch window: requests an upstream answered, and those it first answered 5xx. */
export interface EdgeAnswers {
  proxied: number;
  failed: number;
}

/** From `edgeAnswers` ("<proxied> <failed>"). */
export function parseEdgeAnswers(stdout: string): EdgeAnswers {
  const match = /^(\d+) (\d+)$/.exec(stdout.trim());
  if (!match) throw new Error(`cannot read nginx's answer counts: ${JSON.stringify(stdout)}`);
  return { proxied: Number(match[1]), failed: Number(match[2]) };
}

export interface WatchPolicy {
  maxErrorPercent: number;
  minRequests: number;
}

/**
 * Why the new release fails the window by nginx's log, or undefined while it holds. Too few requests say
 * nothing about a share (two of three failed is noise on an idle site), so the health probe decides then.
 */
export function errorShareVerdict(answers: EdgeAnswers, policy: WatchPolicy): string | undefined {
  if (answers.proxied < policy.minRequests) return undefined;
  const percent = (answers.failed / answers.proxied) * 100;
  if (percent <= policy.maxErrorPercent) return undefined;
  return `${answers.failed} of ${answers.proxied} requests through nginx (${percent.toFixed(1)} %) were answered 5xx by the new release; at most ${policy.maxErrorPercent} % may be`;
}

/** Looks through the public URL that may fail in a row before the window fails: one can be a blip. */
export const FAILED_LOOKS_TO_FAIL = 2;

/**
 * Seconds to wait before look `index` (0 is the window's start): each look is due `pollSeconds` after the
 * previous one was due, so the time looks take comes out of the wait, and is added only when a look took
 * longer than the wait it had.
 */
export function untilLook(index: number, startedMs: number, nowMs: number, pollSeconds: number): number {
  return Math.max(0, (startedMs + index * pollSeconds * 1000 - nowMs) / 1000);
}
