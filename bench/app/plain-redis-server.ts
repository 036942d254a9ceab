/**
 * The benchmark's plain baseline: the least a Fastify service can do to answer a cached product read,
 * one Redis GET of the stored JSON sent back as it is. No logging, hooks, validation or rate limit.
 * Run as its own process, as the app is, so both sides pay the same for process and connection.
 *
 *   node --import tsx bench/app/plain-redis-server.ts      REDIS_URL, PORT, BASELINE_KEY
 */
import Fastify from "fastify";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const key = process.env.BASELINE_KEY ?? "bench:product";
const app = Fastify({ logger: false });

app.get("/products/:id", async (_request, reply) => {
  const json = await redis.get(key);
  return json === null ? reply.code(404).send() : reply.type("application/json").send(json);
});
app.get("/healthz", async () => ({ status: "alive" }));

process.once("SIGTERM", async () => {
  await app.close();
  redis.disconnect();
});
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
