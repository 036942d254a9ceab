import { describe, expect, it } from "vitest";
import { hostPort, type RenderedCompose, stackFile } from "../../src/swarm/stack-file.js";

/** The shape `docker-compose config` prints of compose/compose.yaml, cut down to what the rules read. */
const rendered: RenderedCompose = {
  services: {
    postgres: {
      image: "postgres:15-bookworm",
      restart: "unless-stopped",
      cpus: 1.0,
      mem_limit: "1g",
      pids_limit: 256,
      volumes: ["postgres-data:/var/lib/postgresql/data:rw"],
      tmpfs: ["/var/run/postgresql", "/tmp"],
      networks: { backend: null },
    },
    migrate: {
      image: "registry.example.com/app@sha256:aaa",
      restart: "no",
      command: "node dist/cli.js migrate",
      depends_on: { postgres: { condition: "service_healthy" } },
      networks: { backend: null },
    },
    app: {
      image: "registry.example.com/app@sha256:aaa",
      restart: "unless-stopped",
      depends_on: { migrate: { condition: "service_completed_successfully" } },
      healthcheck: { interval: "5s", retries: 12 },
      networks: { backend: null, frontend: null },
    },
    nginx: {
      image: "nginx:stable",
      restart: "unless-stopped",
      ports: ["0.0.0.0:80:8080/tcp", "0.0.0.0:443:8443/tcp"],
      volumes: ["/srv/shop/nginx/conf.d:/etc/nginx/conf.d:ro"],
      networks: { edge: null, frontend: null },
    },
    grafana: { image: "grafana/grafana:12.1.0", profiles: ["monitoring"], networks: { monitoring: null } },
  },
  networks: { backend: { internal: true }, frontend: { internal: true }, edge: {}, monitoring: {} },
  volumes: { "postgres-data": {} },
};

const shape = {
  app: { service: "app", replicas: 3, monitorSeconds: 30 },
  jobs: ["migrate"],
  dataLabel: "shipyard.data",
};

const services = (stack: Record<string, unknown>) =>
  stack.services as Record<string, Record<string, unknown> & { deploy: Record<string, unknown> }>;

describe("the compose file as a Swarm stack", () => {
  it("updates the app one new task first, watched for `monitor` and rolled back by Swarm on failure", () => {
    const app = services(stackFile(rendered, shape)).app;
    expect(app?.deploy).toEqual({
      endpoint_mode: "dnsrr",
      replicas: 3,
      restart_policy: { condition: "any" },
      update_config: { parallelism: 1, order: "start-first", monitor: "30s", failure_action: "rollback" },
      rollback_config: { parallelism: 1, order: "start-first" },
    });
    // Swarm refuses compose's start order; the app's healthcheck holds its traffic back instead.
    expect(app).not.toHaveProperty("depends_on");
    expect(app?.healthcheck).toEqual({ interval: "5s", retries: 12 });
  });

  it("runs migrate as a job that retries while the database starts beside it", () => {
    const migrate = services(stackFile(rendered, shape)).migrate;
    expect(migrate?.deploy).toMatchObject({
      mode: "replicated-job",
      restart_policy: { condition: "on-failure", max_attempts: 12 },
    });
    expect(migrate).not.toHaveProperty("restart");
  });

  it("leaves the services it is told to out of the file (a rollback's migrate job), so Swarm keeps them as they run", () => {
    const rollback = services(stackFile(rendered, { ...shape, leaveOut: ["migrate"] }));
    expect(Object.keys(rollback)).toEqual(["postgres", "app", "nginx"]);
  });

  it("keeps state on the labelled node, with compose's limits as Swarm's", () => {
    const postgres = services(stackFile(rendered, shape)).postgres;
    expect(postgres?.deploy).toEqual({
      endpoint_mode: "dnsrr",
      resources: { limits: { cpus: "1", memory: "1g", pids: 256 } },
      replicas: 1,
      restart_policy: { condition: "any" },
      placement: { constraints: ["node.labels.shipyard.data == true"] },
      update_config: { parallelism: 1, order: "stop-first", failure_action: "rollback" },
    });
    for (const key of ["cpus", "mem_limit", "pids_limit", "restart"])
      expect(postgres).not.toHaveProperty(key);
    // docker stack deploy ignores `tmpfs`: a read-only container would have nowhere to write.
    expect(postgres).not.toHaveProperty("tmpfs");
    expect(postgres?.volumes).toEqual([
      "postgres-data:/var/lib/postgresql/data:rw",
      { type: "tmpfs", target: "/var/run/postgresql" },
      { type: "tmpfs", target: "/tmp" },
    ]);
  });

  it("publishes nginx's ports on its node, and puts every network on the overlay driver", () => {
    const stack = stackFile(rendered, shape);
    expect(services(stack).nginx?.ports).toEqual([
      { target: 8080, published: 80, protocol: "tcp", mode: "host" },
      { target: 8443, published: 443, protocol: "tcp", mode: "host" },
    ]);
    expect(stack.networks).toEqual({
      backend: { internal: true, driver: "overlay" },
      frontend: { internal: true, driver: "overlay" },
      edge: { driver: "overlay" },
      monitoring: { driver: "overlay" },
    });
  });

  it("leaves out the services of profiles not asked for, as compose does", () => {
    expect(Object.keys(services(stackFile(rendered, shape)))).toEqual([
      "postgres",
      "migrate",
      "app",
      "nginx",
    ]);
    const withMonitoring = stackFile(rendered, { ...shape, profiles: ["monitoring"] });
    expect(services(withMonitoring).grafana).not.toHaveProperty("profiles");
  });

  it("reads compose v2's long port form too, and refuses a port Swarm would publish at random", () => {
    expect(hostPort({ target: 8443, published: "443", protocol: "tcp", host_ip: "127.0.0.1" })).toEqual({
      target: 8443,
      published: 443,
      protocol: "tcp",
      mode: "host",
    });
    expect(hostPort("80:8080")).toEqual({ target: 8080, published: 80, protocol: "tcp", mode: "host" });
    expect(() => hostPort("8080")).toThrow("a Swarm stack publishes PUBLISHED:TARGET, with both numbers");
  });

  it("names the missing app service in one line", () => {
    expect(() => stackFile(rendered, { ...shape, app: { ...shape.app, service: "web" } })).toThrow(
      "the compose file has no service web (app.service) to deploy on Swarm",
    );
  });
});
