/**
 * What users see during a release on Docker Swarm against the single-server switch: failed requests and the
 * longest gap without a successful answer, under the same HTTPS load through nginx, in alternating rounds.
 *   - single-server switch: `shipyard deploy` on the compose stack (start beside, ready, nginx switch, watch)
 *   - Swarm rolling update: the same compose file as a stack (deploy/src/swarm/stack-file.ts), two replicas,
 *     `docker stack deploy` of the other release until Swarm reports the update completed and nginx serves it
 * Both stacks run side by side on the benchmark's own engine, each with its own nginx on 127.0.0.1.
 *   npx tsx bench/swarm/run.ts [--rounds 3] [--workers 4]
 * The duration of each side is printed for information only: the Swarm update waits `monitor` (the watch
 * window) after each task, the switch one watch window for the release.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { type LoadReport, startLoad } from "../../deploy/test/e2e/support/load.js";
import { type SwarmStack, startSwarmStack } from "../../deploy/test/e2e/support/swarm.js";
import { type DeployTarget, startDeployTarget } from "../../deploy/test/e2e/support/target.js";
import { openDockerTestSession } from "../../test/docker/engine.js";
import type { Reply } from "../../test/stack/support/https-client.js";
import { shipyardRelease } from "../lib/release.js";
import {
  alternateRounds,
  figureTable,
  machineLine,
  positiveInteger,
  type RoundsResult,
} from "../lib/rounds.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, workers: { type: "string", default: "4" } },
});
const rounds = positiveInteger("rounds", values.rounds, 20);
const workers = positiveInteger("workers", values.workers, 64);
/** The same watch window on both sides: the switch's `watch.seconds`, Swarm's `monitor`. */
const WATCH_SECONDS = 12;

interface Sample {
  load: LoadReport;
  seconds: number;
}

async function underLoad(send: () => Promise<Reply>, release: () => Promise<void>): Promise<Sample> {
  const load = startLoad(send, { workers, maxMs: 600_000 });
  await sleep(1_000);
  const started = performance.now();
  try {
    await release();
  } finally {
    await sleep(1_000);
  }
  const seconds = (performance.now() - started) / 1000;
  return { load: await load.stop(), seconds };
}

async function swarmUpdate(stack: SwarmStack, variant: string, release: string): Promise<void> {
  await stack.deploy(release, variant);
  const status = await stack.settledUpdate();
  if (status?.state !== "completed")
    throw new Error(`the Swarm update to ${release} ended ${JSON.stringify(status)}`);
  await stack.untilServed(release);
}

const SWITCH = "single-server switch";
const SWARM = "Swarm rolling update";
// The benchmark's own engine, like the tests': its images are built in it, whatever ran before.
const docker = await openDockerTestSession();
let target: DeployTarget | undefined;
let stack: SwarmStack | undefined;
let result: RoundsResult<string, Sample>;
try {
  target = await startDeployTarget("shipyard-bench-switch");
  stack = await startSwarmStack({
    prefix: "shipyard-bench-swarm",
    variants: ["v1", "v2"],
    replicas: 2,
    watchSeconds: WATCH_SECONDS,
  });
  const single = target;
  const swarm = stack;
  await shipyardRelease(single, "v1", "bench-0");
  await swarm.deploy("bench-0", "v1");
  await swarm.untilServed("bench-0");
  // Each release brings the other image, so each side has something to update.
  const running = { [SWITCH]: "v1", [SWARM]: "v1" };
  const next = (side: keyof typeof running) => {
    running[side] = running[side] === "v1" ? "v2" : "v1";
    return running[side];
  };
  result = await alternateRounds<string, Sample>(rounds, {
    [SWITCH]: (round) =>
      underLoad(
        () => single.edge("/healthz"),
        async () => void (await shipyardRelease(single, next(SWITCH), `bench-${round}`)),
      ),
    [SWARM]: (round) =>
      underLoad(
        () => swarm.edge("/healthz"),
        () => swarmUpdate(swarm, next(SWARM), `bench-${round}`),
      ),
  });
} finally {
  await stack?.teardown();
  await target?.teardown();
  await docker.close();
}

const rows = (label: string, samples: Sample[]) => [
  { label: `${label}: failed requests`, values: samples.map((s) => s.load.failed), unit: "", digits: 0 },
  { label: `${label}: longest gap`, values: samples.map((s) => s.load.longestGapMs), unit: "ms", digits: 0 },
  { label: `${label}: requests`, values: samples.map((s) => s.load.requests), unit: "", digits: 0 },
  { label: `${label}: release duration`, values: samples.map((s) => s.seconds), unit: "s" },
];
console.log(
  `\nRelease under load: ${workers} HTTPS clients on /healthz through each side's nginx, new connection per request; watch window ${WATCH_SECONDS} s on both`,
);
console.log(machineLine(rounds, result.loadAverages));
console.log(
  figureTable([...rows(SWITCH, result.samples[SWITCH] ?? []), ...rows(SWARM, result.samples[SWARM] ?? [])]),
);
for (const side of [SWITCH, SWARM]) {
  const failures = (result.samples[side] ?? []).flatMap((s) =>
    s.load.failures.slice(0, 3).map((f) => `${f.atMs} ms: ${f.what}`),
  );
  if (failures.length) console.log(`first failures, ${side}: ${failures.join("; ")}`);
}
