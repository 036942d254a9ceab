/**
 * How long the test harness takes to start (and stop) its throw-away servers, the sides alternating over
 * rounds in one run:
 *   - Postgres from the template: a copy of the cluster initdb made once for this machine (what tests use)
 *   - Postgres by initdb: a new cluster at each start, as the harness did before (the baseline)
 *   - Redis
 *   - both at once, as the integration tests' global setup starts them
 *
 *   npx tsx bench/harness/start.ts [--rounds 5]
 */
import { parseArgs } from "node:util";
import { type EphemeralPostgres, startPostgres } from "../../test/harness/ephemeral-postgres.js";
import { type EphemeralRedis, startRedis } from "../../test/harness/ephemeral-redis.js";
import { alternateRounds, figureTable, machineLine, positiveInteger, ratioOfMedians } from "../lib/rounds.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = positiveInteger("rounds", values.rounds, 50);

interface Timing {
  readonly start: number;
  readonly stop: number;
}

/** Seconds to start the servers `start` returns, and to stop them again. */
async function timed(start: () => Promise<readonly (EphemeralPostgres | EphemeralRedis)[]>): Promise<Timing> {
  const began = performance.now();
  const servers = await start();
  const started = performance.now();
  await Promise.all(servers.map((server) => server.stop()));
  return { start: (started - began) / 1000, stop: (performance.now() - started) / 1000 };
}

// The first start on a machine builds the template: that happens once, before the rounds, and is shown apart.
const first = await timed(async () => [await startPostgres()]);
console.error(
  `first start from the template (builds it when this machine has none): ${first.start.toFixed(2)} s`,
);

const { samples, loadAverages } = await alternateRounds(
  rounds,
  {
    "postgres, template": () => timed(async () => [await startPostgres()]),
    "postgres, initdb": () => timed(async () => [await startPostgres({ cluster: "initdb" })]),
    redis: () => timed(async () => [await startRedis()]),
    "postgres and redis": () => timed(() => Promise.all([startPostgres(), startRedis()])),
  },
  (line) => console.error(line),
);

const seconds = (side: keyof typeof samples, what: keyof Timing) =>
  samples[side].map((timing) => timing[what]);
console.log(machineLine(rounds, loadAverages));
console.log(
  `first start from the template this run: ${first.start.toFixed(2)} s (includes building it if this machine had none)\n`,
);
const row = (label: string, side: keyof typeof samples, what: keyof Timing) => ({
  label,
  values: seconds(side, what),
  unit: "s",
  digits: 2,
});
console.log(
  figureTable([
    row("start postgres, template", "postgres, template", "start"),
    row("start postgres, initdb", "postgres, initdb", "start"),
    row("start redis", "redis", "start"),
    row("start both (global setup)", "postgres and redis", "start"),
    row("stop postgres, template", "postgres, template", "stop"),
    row("stop postgres, initdb", "postgres, initdb", "stop"),
  ]),
);
console.log(
  `\npostgres start, template / initdb, ratio of medians: ${ratioOfMedians(
    seconds("postgres, template", "start"),
    seconds("postgres, initdb", "start"),
  ).toFixed(2)}`,
);
