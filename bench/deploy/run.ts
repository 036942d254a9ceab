/**
 * What users see during a release: failed requests and the longest gap without a successful answer,
 * for `shipyard deploy` (start beside, healthy, nginx switch, drain) against a plain recreate of the
 * app (`compose up -d app` with the new image, then an nginx reload, as nginx/README.md documents),
 * same stack, same load, same run, alternating.
 *   node --import tsx bench/deploy/run.ts [--rounds=2] [--workers=4]
 */

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { type LoadReport, startLoad } from "../../deploy/test/e2e/support/load.js";
import { type DeployTarget, startDeployTarget } from "../../deploy/test/e2e/support/target.js";
import { composeArgv } from "../../test/docker/compose-project.js";
import { openDockerTestSession } from "../../test/docker/engine.js";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "2" }, workers: { type: "string", default: "4" } },
});
const rounds = Number(values.rounds);
const workers = Number(values.workers);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
if (!Number.isInteger(workers) || workers < 1)
  throw new Error(`--workers must be a positive integer, got ${values.workers}`);

async function underLoad(target: DeployTarget, release: () => Promise<void>): Promise<LoadReport> {
  const load = startLoad(() => target.edge("/healthz", {}), { workers, maxMs: 240_000 });
  await sleep(1_000);
  try {
    await release();
  } finally {
    await sleep(1_000);
  }
  return load.stop();
}

async function shipyardDeploy(target: DeployTarget, variant: string, release: string): Promise<void> {
  const run = await target.shipyard([
    "deploy",
    "--env=local",
    `--image=${target.images[variant]}`,
    `--release=${release}`,
    "--no-backup",
  ]);
  if (run.exitCode !== 0) throw new Error(`shipyard deploy ${release} failed:\n${run.stderr}`);
}

async function plainRecreate(target: DeployTarget, variant: string, release: string): Promise<void> {
  const image = target.images[variant] as string;
  const [file, args] = composeArgv(target.project.cli, target.project.spec, [
    "up",
    "--detach",
    "--no-deps",
    "app",
  ]);
  await execa(file, args, { cwd: target.dir, env: { APP_IMAGE: image, RELEASE_ID: release } });
  await target.project.run(["kill", "-s", "HUP", "nginx"]);
}

// The benchmark's own engine, like the tests': its images are built in it, whatever ran before.
const docker = await openDockerTestSession();
const target = await startDeployTarget("shipyard-bench-deploy");
const results: { round: number; switch: LoadReport; recreate: LoadReport }[] = [];
try {
  await shipyardDeploy(target, "v1", "bench-0");
  for (let round = 1; round <= rounds; round++) {
    const next = round % 2 === 1 ? "v2" : "v1";
    const ours = await underLoad(target, () => shipyardDeploy(target, next, `bench-${round}-switch`));
    const other = round % 2 === 1 ? "v1" : "v2";
    const plain = await underLoad(target, () => plainRecreate(target, other, `bench-${round}-recreate`));
    results.push({ round, switch: ours, recreate: plain });
    // Back to a state shipyard deploys from: one app container named in upstream.conf.
    await shipyardDeploy(target, next, `bench-${round}-reset`);
  }
} finally {
  await target.teardown();
  await docker.close();
}

const row = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(i === 0 ? 28 : 14)).join("");
console.log(
  `\nDeploy under load: ${workers} HTTPS clients on /healthz through nginx, new connection per request\n`,
);
console.log(row(["round / method", "requests", "failed", "longest gap", "duration"]));
for (const r of results) {
  for (const [name, report] of [
    ["shipyard deploy (switch)", r.switch],
    ["compose up -d (recreate)", r.recreate],
  ] as const) {
    console.log(
      row([
        `${r.round} ${name}`,
        report.requests,
        report.failed,
        `${report.longestGapMs} ms`,
        `${(report.durationMs / 1000).toFixed(1)} s`,
      ]),
    );
  }
}
const firstFailures = results.flatMap((r) =>
  r.recreate.failures.slice(0, 3).map((f) => `${f.atMs} ms: ${f.what}`),
);
if (firstFailures.length) console.log(`\nfirst failures of the recreate: ${firstFailures.join("; ")}`);
