/**
 * The compose file on Docker Swarm: the stack file `docker stack deploy` takes, made from what
 * `docker-compose config` renders of the very file one server runs (variables filled in, paths absolute).
 * Pure. Everything that differs between the two lives here, each with its reason:
 * - Swarm's schema refuses compose's container limits and start order: `cpus`, `mem_limit` and `pids_limit`
 *   become `deploy.resources.limits`, `restart` a restart policy, and `depends_on` goes (Swarm starts every
 *   service at once; the app's healthcheck, which needs its database and schema, holds its traffic back).
 * - Services of a profile that is not enabled are left out, as compose leaves them out.
 * - The app runs `replicas` tasks and updates one at a time, the new task first; Swarm watches each for
 *   `monitor` seconds and rolls the service back when one fails (`failure_action: rollback`).
 * - One-shot services (migrate) run as a job, again whenever their image changes.
 * - Every other service keeps state or files on its node (volumes, nginx's configuration): they run on the
 *   node labelled for data, so the volumes are found again after a restart.
 * - Services are reached by DNS (`endpoint_mode: dnsrr`): nginx resolves the app's tasks itself, and no
 *   virtual IP (IPVS) stands between it and them.
 * - `tmpfs` (which `docker stack deploy` ignores, leaving a read-only container nowhere to write) becomes
 *   tmpfs mounts.
 * - Published ports are bound on the node itself (`mode: host`): Swarm's routing mesh would need IPVS, and
 *   nginx is the one way in anyway.
 */

type Fields = Record<string, unknown>;

/** What `docker-compose config` prints, parsed: the parts this reads. */
export interface RenderedCompose {
  services: Record<string, Fields>;
  networks?: Record<string, Fields | null>;
  volumes?: Record<string, Fields | null>;
}

export interface SwarmShape {
  /** `monitorSeconds`: how long Swarm watches each new task for a failure of its own (a crash, unhealthy). */
  app: { service: string; replicas: number; monitorSeconds: number };
  /** One-shot services, run as a job (e.g. migrate). */
  jobs: readonly string[];
  /**
   * Services left out of the file, so a deploy leaves them as they run (a rollback's migrate job: an older
   * release does not migrate). `docker stack deploy` removes no service it is not given.
   */
  leaveOut?: readonly string[];
  /** The node label (`docker node update --label-add NAME=true`) of the node that keeps the state. */
  dataLabel: string;
  /** Profiles to include, as compose's --profile (none: services with a profile are left out). */
  profiles?: readonly string[];
}

/** Compose keys Swarm's stack schema refuses; what they meant is carried over below where it has a meaning. */
const NOT_IN_STACKS = [
  "cpus",
  "mem_limit",
  "pids_limit",
  "restart",
  "depends_on",
  "profiles",
  "container_name",
  "tmpfs",
];

/** A failing job is tried again a few times: on a first deploy the database starts beside it. */
const JOB_ATTEMPTS = 12;
const JOB_RETRY_DELAY = "5s";

export function stackFile(compose: RenderedCompose, shape: SwarmShape): Fields {
  if (!compose.services[shape.app.service])
    throw new Error(`the compose file has no service ${shape.app.service} (app.service) to deploy on Swarm`);
  const services: Record<string, Fields> = {};
  for (const [name, service] of Object.entries(compose.services)) {
    const profiles = (service.profiles as string[] | undefined) ?? [];
    if (profiles.length > 0 && !profiles.some((p) => shape.profiles?.includes(p))) continue;
    if (shape.leaveOut?.includes(name)) continue;
    services[name] = swarmService(name, service, shape);
  }
  const networks = Object.fromEntries(
    Object.entries(compose.networks ?? {}).map(([name, network]) => [
      name,
      { ...(network ?? {}), driver: "overlay" },
    ]),
  );
  return { services, networks, volumes: compose.volumes ?? {} };
}

function swarmService(name: string, service: Fields, shape: SwarmShape): Fields {
  const kept = Object.fromEntries(Object.entries(service).filter(([key]) => !NOT_IN_STACKS.includes(key)));
  const role: Role = name === shape.app.service ? "app" : shape.jobs.includes(name) ? "job" : "stateful";
  const ports = service.ports as unknown[] | undefined;
  const volumes = [...((service.volumes as unknown[] | undefined) ?? []), ...tmpfsMounts(service.tmpfs)];
  return {
    ...kept,
    ...(ports ? { ports: ports.map(hostPort) } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    deploy: {
      endpoint_mode: "dnsrr",
      ...limits(service),
      ...ROLE_DEPLOY[role](shape, restartCondition(service.restart)),
    },
  };
}

type Role = "app" | "job" | "stateful";

const ROLE_DEPLOY: Record<Role, (shape: SwarmShape, restart: string) => Fields> = {
  app: ({ app }, restart) => ({
    replicas: app.replicas,
    restart_policy: { condition: restart },
    update_config: {
      parallelism: 1,
      order: "start-first",
      monitor: `${app.monitorSeconds}s`,
      failure_action: "rollback",
    },
    rollback_config: { parallelism: 1, order: "start-first" },
  }),
  job: () => ({
    mode: "replicated-job",
    restart_policy: { condition: "on-failure", delay: JOB_RETRY_DELAY, max_attempts: JOB_ATTEMPTS },
  }),
  stateful: ({ dataLabel }, restart) => ({
    replicas: 1,
    restart_policy: { condition: restart },
    placement: { constraints: [`node.labels.${dataLabel} == true`] },
    // One task at a time on its volume: the old one stops before the new one starts.
    update_config: { parallelism: 1, order: "stop-first", failure_action: "rollback" },
  }),
};

/** compose's restart → Swarm's restart condition. */
function restartCondition(restart: unknown): string {
  if (restart === undefined || restart === "no") return "none";
  if (typeof restart === "string" && restart.startsWith("on-failure")) return "on-failure";
  return "any";
}

function limits(service: Fields): Fields {
  const limit: Fields = {};
  if (service.cpus !== undefined) limit.cpus = String(service.cpus);
  if (service.mem_limit !== undefined) limit.memory = String(service.mem_limit);
  if (service.pids_limit !== undefined) limit.pids = Number(service.pids_limit);
  return Object.keys(limit).length > 0 ? { resources: { limits: limit } } : {};
}

/**
 * "ADDRESS:PUBLISHED:TARGET/PROTOCOL" (docker-compose v1) or the long form (compose v2) → the long form,
 * bound on the node. Swarm's schema has no host address: the port listens on every interface of the node.
 */
export function hostPort(port: unknown): Fields {
  if (typeof port === "object" && port !== null) {
    const { host_ip: _address, ...rest } = port as Fields;
    return { ...rest, published: Number(rest.published), mode: "host" };
  }
  const [spec = "", protocol = "tcp"] = String(port).split("/");
  // From the right: TARGET, then PUBLISHED; whatever comes before is the host address Swarm cannot bind.
  const [target, published] = spec.split(":").reverse().map(Number);
  if (!Number.isInteger(target) || !Number.isInteger(published))
    throw new Error(
      `port ${JSON.stringify(port)}: a Swarm stack publishes PUBLISHED:TARGET, with both numbers`,
    );
  return { target, published, protocol, mode: "host" };
}

/** compose's `tmpfs: [/tmp]` → mounts of type tmpfs, which Swarm services have. */
function tmpfsMounts(tmpfs: unknown): Fields[] {
  const targets = tmpfs === undefined ? [] : Array.isArray(tmpfs) ? tmpfs : [tmpfs];
  return targets.map((target) => ({ type: "tmpfs", target: String(target).split(":")[0] }));
}
