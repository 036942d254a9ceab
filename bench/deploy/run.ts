/**
 * What users see during a release, and how long it takes: failed requests, the longest gap without a
 * successful answer and the wall time of the release, for `shipyard deploy` (start beside, migrate, ready,
 * nginx switch, watch, drain) against a plain recreate of the app (`compose up -d app` with the new image,
 * then an nginx reload, as nginx/README.md documents): same stack, same load, alternating rounds.
 *   node --import tsx bench/deploy/run.ts [--rounds=3] [--workers=4]
 * The duration is the wall time of the command that releases: the CLI's own start included on one side,
 * docker-compose's on the other.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { type LoadReport, startLoad } from "../../deploy/test/e2e/support/load.js";
import { type DeployTarget, startDeployTarget } from "../../deploy/test/e2e/support/target.js";
import { composeArgv } from "../../test/docker/compose-project.js";
import { openDockerTestSession } from "../../test/docker/engine.js";
import { shipyardRelease } from "../lib/release.js";
import {
  alternateRounds,
  figureTable,
  machineLine,
  positiveInteger,
  type RoundsResult,
  ratioOfMedians,
  spread,
} from "../lib/rounds.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, workers: { type: "string", default: "4" } },
});
const rounds = positiveInteger("rounds", values.rounds, 20);
const workers = positiveInteger("workers", values.workers, 64);

interface Sample {
  load: LoadReport;
  /** Wall time of the release itself, in seconds. */
  seconds: number;
  /** Of which the watch window, a dwell on purpose (the previous release kept as nginx's backup): 0 for a recreate. */
  watchSeconds: number;
}

/** `release` answers how long of it was the watch window. */
async function underLoad(target: DeployTarget, release: () => Promise<number>): Promise<Sample> {
  const load = startLoad(() => target.edge("/healthz", {}), { workers, maxMs: 240_000 });
  await sleep(1_000);
  let seconds = 0;
  let watchSeconds = 0;
  try {
    const started = performance.now();
    watchSeconds = await release();
    seconds = (performance.now() - started) / 1000;
  } finally {
    await sleep(1_000);
  }
  return { load: await load.stop(), seconds, watchSeconds };
}

/** Seconds per step of the measured deploys, from their progress lines ("✓ <step> (<s> s)"): where the time goes. */
const stepSeconds = new Map<string, number[]>();

/** Runs the deploy; answers the seconds its watch window took, from its progress line. */
async function shipyardDeploy(
  target: DeployTarget,
  variant: string,
  release: string,
  measured = false,
): Promise<number> {
  const run = await shipyardRelease(target, variant, release);
  if (measured)
    for (const [, step = "", seconds] of run.stderr.matchAll(/^✓ (.+?) \(([\d.]+) s\)/gm))
      stepSeconds.set(step, [...(stepSeconds.get(step) ?? []), Number(seconds)]);
  return Number(/✓ watch \(([\d.]+) s\)/.exec(run.stderr)?.[1] ?? 0);
}

async function plainRecreate(target: DeployTarget, variant: string, release: string): Promise<number> {
  const image = target.images[variant] as string;
  const [file, args] = composeArgv(target.project.cli, target.project.spec, [
    "up",
    "--detach",
    "--no-deps",
    "app",
  ]);
  await execa(file, args, { cwd: target.dir, env: { APP_IMAGE: image, RELEASE_ID: release } });
  await target.project.run(["kill", "-s", "HUP", "nginx"]);
  return 0;
}

// The benchmark's own engine, like the tests': its images are built in it, whatever ran before.
const docker = await openDockerTestSession();
const target = await startDeployTarget("shipyard-bench-deploy");
// Each release brings the other image, so the recreate has something to recreate.
let running = "v1";
const other = () => (running === "v1" ? "v2" : "v1");
const SHIPYARD = "shipyard deploy (switch)";
const RECREATE = "compose up -d (recreate)";
let result: RoundsResult<string, Sample>;
try {
  await shipyardDeploy(target, running, "bench-0");
  result = await alternateRounds<string, Sample>(rounds, {
    [SHIPYARD]: async (round) => {
      const next = other();
      const sample = await underLoad(target, () =>
        shipyardDeploy(target, next, `bench-${round}-switch`, true),
      );
      running = next;
      return sample;
    },
    [RECREATE]: async (round) => {
      const next = other();
      const sample = await underLoad(target, () => plainRecreate(target, next, `bench-${round}-recreate`));
      running = next;
      // Back to a state shipyard deploys from (one app container named in upstream.conf), not measured.
      await shipyardDeploy(target, running, `bench-${round}-reset`);
      return sample;
    },
  });
} finally {
  await target.teardown();
  await docker.close();
}

const ours = result.samples[SHIPYARD] ?? [];
const plain = result.samples[RECREATE] ?? [];
const rows = (label: string, samples: Sample[]) => [
  { label: `${label}: release duration`, values: samples.map((s) => s.seconds), unit: "s" },
  { label: `${label}: less watch window`, values: samples.map((s) => s.seconds - s.watchSeconds), unit: "s" },
  { label: `${label}: failed requests`, values: samples.map((s) => s.load.failed), unit: "", digits: 0 },
  { label: `${label}: longest gap`, values: samples.map((s) => s.load.longestGapMs), unit: "ms", digits: 0 },
  { label: `${label}: requests`, values: samples.map((s) => s.load.requests), unit: "", digits: 0 },
];
console.log(
  `\nDeploy under load: ${workers} HTTPS clients on /healthz through nginx, new connection per request`,
);
console.log(machineLine(rounds, result.loadAverages));
console.log(figureTable([...rows(SHIPYARD, ours), ...rows(RECREATE, plain)]));
const ratio = ratioOfMedians(
  ours.map((s) => s.seconds),
  plain.map((s) => s.seconds),
);
const ratioLessWatch = ratioOfMedians(
  ours.map((s) => s.seconds - s.watchSeconds),
  plain.map((s) => s.seconds),
);
console.log(
  `\nrelease duration, shipyard over recreate (ratio of medians): ${ratio.toFixed(2)}x (goal: <= 2x)`,
);
console.log(`  the same less shipyard's watch window (a dwell on purpose): ${ratioLessWatch.toFixed(2)}x`);
const slowest = [...stepSeconds]
  .map(([step, seconds]) => [step, spread(seconds).median] as const)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8);
console.log(
  `shipyard's slowest steps (median s): ${slowest.map(([step, median]) => `${step} ${median.toFixed(1)}`).join(", ")}`,
);
const firstFailures = plain.flatMap((s) => s.load.failures.slice(0, 3).map((f) => `${f.atMs} ms: ${f.what}`));
if (firstFailures.length) console.log(`first failures of the recreate: ${firstFailures.join("; ")}`);
const ourFailures = ours.flatMap((s) => s.load.failures.slice(0, 3).map((f) => `${f.atMs} ms: ${f.what}`));
if (ourFailures.length) console.log(`FAILURES during shipyard deploy: ${ourFailures.join("; ")}`);
