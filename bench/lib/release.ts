/** A release through the deploy CLI, as the benchmarks make one: the `local` environment, no backup. */
import type { DeployTarget, ShipyardRun } from "../../deploy/test/e2e/support/target.js";

/** `shipyard deploy` of `variant`'s image as `release`; its run (progress on stderr), or an error when it fails. */
export async function shipyardRelease(
  target: DeployTarget,
  variant: string,
  release: string,
): Promise<ShipyardRun> {
  const run = await target.shipyard([
    "deploy",
    "--env=local",
    `--image=${target.images[variant]}`,
    `--release=${release}`,
    "--no-backup",
  ]);
  if (run.exitCode !== 0) throw new Error(`shipyard deploy ${release} failed:\n${run.stderr}`);
  return run;
}
