/**
 * The compose file on Docker Swarm, the first part of a Swarm target (docs/swarm.md): on a one-node swarm in
 * the test engine (support/swarm.ts), each release rendered by compose, made a stack file by stackFile and
 * deployed with `docker stack deploy`, nginx in front with the repository's configuration and the Swarm
 * upstream file. Swarm itself updates and rolls back; these tests check what users see through nginx while
 * it does: every answer from a release that should serve, none failed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad } from "./support/load.js";
import { type SwarmStack, startSwarmStack } from "./support/swarm.js";

let stack: SwarmStack;

/**
 * Load while `during` runs, as the deploy e2e makes it: HTTPS requests to /healthz through nginx (which
 * its rate limit leaves alone), each on a new connection. Beside it, /version five times a second (under
 * that limit): every answer must name one of `serving`.
 */
async function underLoad(serving: readonly string[], during: () => Promise<void>) {
  const releases = new Map<string, number>();
  const load = startLoad(() => stack.edge("/healthz"));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const release = await stack.servedRelease().catch((error: Error) => error.message);
      releases.set(release, (releases.get(release) ?? 0) + 1);
      await sleep(200);
    }
  })();
  try {
    await during();
  } finally {
    // A last stretch after Swarm is done: what it left behind must serve too.
    await sleep(2_000);
    sampling = false;
    await sampler;
  }
  const seen = Object.fromEntries(releases);
  return {
    report: await load.stop(),
    seen,
    strangers: Object.keys(seen).filter((r) => !serving.includes(r)),
  };
}

beforeAll(async () => {
  // v1 and v2 serve; `unhealthy` never passes its healthcheck.
  stack = await startSwarmStack({
    prefix: "shipyard-swarm",
    variants: ["v1", "v2", "unhealthy"],
    replicas: 2,
    watchSeconds: 10,
  });
}, 900_000);

afterAll(() => stack?.teardown(), 300_000);

describe("the compose stack on Docker Swarm", () => {
  it("starts on one node: migrations as a job, the app's replicas behind nginx over HTTPS", async () => {
    await stack.deploy("v1", "v1");
    await stack.untilServed("v1");
    expect(await stack.runningImages()).toEqual([stack.images.v1, stack.images.v1]);
    // The schema is there (migrate ran) and the data services answer: an order takes stock.
    const product = await stack.edge("/products", {
      method: "POST",
      body: { sku: "SWARM-1", name: "Swarm", priceCents: 500, stock: 10 },
    });
    expect(product.status).toBe(201);
    const { id } = JSON.parse(product.text) as { id: number };
    const order = await stack.edge("/orders", { method: "POST", body: { productId: id, quantity: 3 } });
    expect(order.status).toBe(201);
    expect(JSON.parse((await stack.edge(`/products/${id}`)).text)).toMatchObject({ stock: 7 });
  }, 600_000);

  it("updates to v2 one new task first under load: no failed request, every task on v2", async () => {
    const { report, seen, strangers } = await underLoad(["v1", "v2"], async () => {
      await stack.deploy("v2", "v2");
      expect(await stack.settledUpdate()).toMatchObject({ state: "completed" });
      await stack.untilServed("v2");
    });
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(100);
    expect(strangers).toEqual([]);
    expect(seen.v2).toBeGreaterThan(0);
    expect(await stack.runningImages()).toEqual([stack.images.v2, stack.images.v2]);
  }, 600_000);

  it("rolls back a release that never becomes healthy, v2 serving throughout", async () => {
    const { report, strangers } = await underLoad(["v2"], async () => {
      await stack.deploy("v3", "unhealthy");
      expect(await stack.settledUpdate()).toMatchObject({ state: "rollback_completed" });
    });
    expect(report.failures).toEqual([]);
    expect(strangers).toEqual([]);
    expect(await stack.servedRelease()).toBe("v2");
    expect(await stack.runningImages()).toEqual([stack.images.v2, stack.images.v2]);
  }, 600_000);
});
