/**
 * The app image's size against the same Dockerfile on the Node slim image as its runtime (what the image
 * was before: Node's Debian with npm and a shell), both built in the same run from the same source.
 *   npx tsx bench/image/size.ts        (or npm run bench:image)
 * Builds on the benchmark's own engine, with the stand-ins for the official base images (test/docker):
 * their sizes are close to, not equal to, the official ones, so the sizes are printed for both bases too.
 */
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { openDockerTestSession } from "../../test/docker/engine.js";
import { buildAppImage, ensureImages } from "../../test/docker/standin-images.js";
import { machineDescription } from "../lib/rounds.js";

const imageSize = async (image: string) =>
  Number((await execa("docker", ["image", "inspect", "--format", "{{.Size}}", image])).stdout) / 1e6;

const docker = await openDockerTestSession();
const suffix = randomBytes(4).toString("hex");
const ours = `shipyard-bench-image:${suffix}`;
const baseline = `shipyard-bench-image-on-node-slim:${suffix}`;
try {
  const bases = await ensureImages(["NODE_IMAGE", "RUNTIME_IMAGE"]);
  await buildAppImage(ours);
  await buildAppImage(baseline, { RUNTIME_IMAGE: bases.NODE_IMAGE });
  const rows: [string, number][] = [
    [`runtime base ${bases.RUNTIME_IMAGE}`, await imageSize(bases.RUNTIME_IMAGE)],
    [`Node base ${bases.NODE_IMAGE}`, await imageSize(bases.NODE_IMAGE)],
    ["app image (ours)", await imageSize(ours)],
    ["app image on the Node base (baseline)", await imageSize(baseline)],
  ];
  console.log(`\n${machineDescription()}\n`);
  for (const [label, mb] of rows) console.log(`${label.padEnd(56)}${mb.toFixed(0).padStart(6)} MB`);
  const [, , oursRow, baselineRow] = rows;
  if (oursRow && baselineRow) console.log(`\nours / baseline: ${(oursRow[1] / baselineRow[1]).toFixed(2)}`);
} finally {
  await execa("docker", ["image", "rm", "--force", ours, baseline], { reject: false });
  await docker.close();
}
