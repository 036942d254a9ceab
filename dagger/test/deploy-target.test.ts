/** Where a deploy function runs the CLI, decided by the environment's target.kind and the image it is handed. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEPLOY_PASSWORD, deployImage, PUBLISH_PASSWORD, publishTo } from "../src/lib/deploy-image.js";
import {
  DEPLOYER_SYSTEM_PACKAGES,
  type DeployerInput,
  DOCKER_CLI_FILES,
  deployerWiring,
} from "../src/lib/deployer.js";
import { ENVIRONMENTS_FILE, environmentFacts, imageSettings } from "../src/lib/environments.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const digest = `sha256:${"cd".repeat(32)}`;

/** A team's own file: a laptop environment with another name, and a server they call "local". */
const renamed = `
version: 1
environments:
  laptop:
    target: { kind: local }
    database: { urlEnv: LAPTOP_DATABASE_URL }
  local:
    target: { kind: ssh, host: build-box.internal, user: deploy, hostKey: "ssh-ed25519 AAAA" }
    database: { urlEnv: BUILD_BOX_DATABASE_URL }
`;

const resources = { hasDatabaseUrl: false };

describe("local or SSH, by target.kind; the database URL under database.urlEnv", () => {
  it("reads the repository's environments: local runs on the host, staging and prod over SSH", () => {
    const file = readFileSync(path.join(repoRoot, ENVIRONMENTS_FILE), "utf8");
    const plain = { encryptsBackups: false };
    expect(environmentFacts(file, "local")).toEqual({
      targetKind: "local",
      urlEnv: "DATABASE_URL",
      backupsOnServer: false,
      ...plain,
    });
    // Both servers keep their backups: made, checked and catalogued there.
    expect(environmentFacts(file, "staging")).toEqual({
      targetKind: "ssh",
      urlEnv: "STAGING_DATABASE_URL",
      backupsOnServer: true,
      ...plain,
    });
    expect(environmentFacts(file, "prod")).toEqual({
      targetKind: "ssh",
      urlEnv: "PROD_DATABASE_URL",
      backupsOnServer: true,
      ...plain,
    });
  });

  it("knows an environment whose backups are age-encrypted, so backup never returns a plain file for it", () => {
    const encrypted = `${renamed}    backup: { directory: b, retention: { daily: 1, weekly: 0 }, encryptTo: [age1abc] }\n`;
    expect(environmentFacts(encrypted, "local").encryptsBackups).toBe(true);
    expect(environmentFacts(encrypted, "laptop").encryptsBackups).toBe(false);
  });

  it("mounts an SSH key only where the environment is reached over SSH (.env may name one for every call)", () => {
    const laptop = deployerWiring({
      ...resources,
      command: "status",
      env: "laptop",
      environment: environmentFacts(renamed, "laptop"),
      hasSshKey: true,
      hasDockerSocket: true,
      hostPath: "/home/dev/shop",
    });
    expect(laptop.mountSshKey).toBe(false);
  });

  it("reaches a swarm's manager over SSH like a server: the key is required and mounted (any file with a swarm environment is read)", () => {
    const withSwarm = `${renamed}  cluster:
    target: { kind: swarm, host: manager.internal, user: deploy, hostKey: "ssh-ed25519 AAAA", replicas: 3 }
    database: { urlEnv: CLUSTER_DATABASE_URL }
`;
    // The file's other environments still read: one swarm entry must not break every call.
    expect(environmentFacts(withSwarm, "laptop").targetKind).toBe("local");
    const cluster = environmentFacts(withSwarm, "cluster");
    expect(cluster).toMatchObject({ targetKind: "swarm", urlEnv: "CLUSTER_DATABASE_URL" });
    const wiring = deployerWiring({
      ...resources,
      command: "deploy",
      image: `shop@${digest}`,
      env: "cluster",
      environment: cluster,
      hasSshKey: true,
      hasDockerSocket: false,
    });
    expect(wiring.mountSshKey).toBe(true);
    expect(wiring.argv.slice(5, 7)).toEqual(["deploy", "--env=cluster"]);
    expect(() =>
      deployerWiring({
        ...resources,
        command: "deploy",
        image: `shop@${digest}`,
        env: "cluster",
        environment: cluster,
        hasSshKey: false,
        hasDockerSocket: false,
      }),
    ).toThrow(/--ssh-key: "cluster" is reached over SSH \(target.kind: swarm\)/);
  });

  it("exports --webhook-url under the name notify.webhookUrlEnv gives, for environments that notify", () => {
    const notifying = `${renamed}    notify: { webhookUrlEnv: BUILD_BOX_WEBHOOK_URL }\n`;
    expect(environmentFacts(notifying, "local").webhookUrlEnv).toBe("BUILD_BOX_WEBHOOK_URL");
    expect(environmentFacts(notifying, "laptop").webhookUrlEnv).toBeUndefined();
    const wiring = deployerWiring({
      ...resources,
      command: "deploy",
      image: `ghcr.io/acme/shop@${digest}`,
      env: "local",
      environment: environmentFacts(notifying, "local"),
      hasSshKey: true,
      hasDockerSocket: false,
      hasWebhookUrl: true,
    });
    expect(wiring.secretVariables.webhookUrl).toBe("BUILD_BOX_WEBHOOK_URL");
  });

  it("exports --database-url under the name the file gives, so no flag repeats it", () => {
    const wiring = deployerWiring({
      ...resources,
      command: "backup",
      env: "local",
      environment: environmentFacts(renamed, "local"),
      hasSshKey: true,
      hasDockerSocket: false,
      hasDatabaseUrl: true,
    });
    expect(wiring.secretVariables.databaseUrl).toBe("BUILD_BOX_DATABASE_URL");
  });

  it("never by the name: a laptop environment runs on the host, a server named local is reached over SSH", () => {
    const laptop = deployerWiring({
      ...resources,
      command: "status",
      env: "laptop",
      environment: environmentFacts(renamed, "laptop"),
      hasSshKey: false,
      hasDockerSocket: true,
      hostPath: "/home/dev/shop",
    });
    expect(laptop.onHost).toEqual({ hostPath: "/home/dev/shop" });
    expect(laptop.argv.slice(-3)).toEqual(["status", "--env=laptop", "--json"]);

    const server = deployerWiring({
      ...resources,
      command: "status",
      env: "local",
      environment: environmentFacts(renamed, "local"),
      hasSshKey: true,
      hasDockerSocket: false,
    });
    expect(server.onHost).toBeUndefined();
    expect(server.mountSshKey).toBe(true);
    expect(server.argv.slice(0, 4)).toEqual(["npm", "run", "--silent", "shipyard"]);
  });

  it("an unknown environment or a file without target.kind or database.urlEnv is one line saying what to fix", () => {
    expect(() => environmentFacts(renamed, "prod")).toThrow(
      /^--env: unknown environment "prod"; valid environments in deploy\/environments.yaml: laptop, local$/,
    );
    expect(() => environmentFacts(renamed, "toString")).toThrow(/unknown environment "toString"/);
    expect(() =>
      environmentFacts("environments:\n  x: { target: { kind: ftp }, database: { urlEnv: U } }\n", "x"),
    ).toThrow(
      /deploy\/environments.yaml: environments.x.target.kind: .*; each environment needs target.kind \(local, ssh, swarm\) and database.urlEnv/,
    );
    expect(() => environmentFacts("environments:\n  x: { target: { kind: ssh } }\n", "x")).toThrow(
      /environments.x.database: /,
    );
    expect(() => environmentFacts("environments: [", "x")).toThrow(/is not valid YAML/);
  });
});

describe("the host's Docker socket", () => {
  const local = {
    ...resources,
    command: "status" as const,
    env: "local",
    environment: { targetKind: "local", urlEnv: "DATABASE_URL" } as const,
    hasSshKey: false,
    hasDockerSocket: true,
    hostPath: "/home/dev/shop",
  };

  it("is mounted into the CLI's container on the host from where the host keeps it", () => {
    const rootless = deployerWiring({ ...local, dockerSocketPath: "/run/user/1000/docker.sock" });
    expect(rootless.argv).toContain("--volume=/run/user/1000/docker.sock:/var/run/docker.sock");
    expect(rootless.argv.filter((a) => a.includes("docker.sock"))).toHaveLength(1);
    expect(deployerWiring(local).argv).toContain("--volume=/var/run/docker.sock:/var/run/docker.sock");
  });
});

describe("the deployer's tools", () => {
  it("takes docker and the compose v2 plugin from the docker CLI image, nothing Docker from Debian", () => {
    expect(DEPLOYER_SYSTEM_PACKAGES.filter((p) => /docker/.test(p))).toEqual([]);
    expect(DOCKER_CLI_FILES.map((f) => f.to)).toEqual([
      "/usr/local/bin/docker",
      // One of the directories the docker client searches for plugins: `docker compose` finds it there.
      "/usr/local/libexec/docker/cli-plugins/docker-compose",
    ]);
  });

  it("local runs `docker compose`, the plugin the deployer has (no compose.cli override needed)", () => {
    const file = readFileSync(path.join(repoRoot, ENVIRONMENTS_FILE), "utf8");
    expect(file).not.toMatch(/^\s+compose:.*cli:\s*docker-compose/m);
  });
});

describe("the image a deploy releases", () => {
  const none = {
    image: "",
    registry: "",
    repository: "",
    username: "",
    password: undefined as string | undefined,
    revision: "",
    sourceUrl: "",
    defaults: {},
  };
  const publishing = {
    ...none,
    registry: "ghcr.io",
    repository: "acme/shop",
    username: "acme",
    password: "a Secret",
    revision: "0123456789abcdef0123456789abcdef01234567",
  };
  const configured = {
    registry: "ghcr.io",
    repository: "Acme/Shop",
    username: "acme",
    sourceUrl: "https://github.com/acme/shop",
    revision: "89abcdef0123456789abcdef0123456789abcdef",
  };

  it("an image already published is deployed as it is, without publishing again", () => {
    const image = `ghcr.io/acme/shop:sha-0123456789ab@${digest}`;
    expect(deployImage({ ...none, image })).toEqual({ publish: false, image });
    expect(deployImage({ ...none, image: `ghcr.io/acme/shop@${digest}` }).publish).toBe(false);
  });

  it("an image not pinned by digest goes to the CLI as given: refusing it is the CLI's check", () => {
    expect(deployImage({ ...none, image: "ghcr.io/acme/shop:1.4.0" })).toEqual({
      publish: false,
      image: "ghcr.io/acme/shop:1.4.0",
    });
  });

  it("otherwise it tests, scans and publishes one from the registry arguments", () => {
    expect(deployImage(publishing)).toEqual({
      publish: true,
      to: {
        registry: "ghcr.io",
        repository: "acme/shop",
        username: "acme",
        password: "a Secret",
        revision: publishing.revision,
        sourceUrl: "",
      },
    });
  });

  it("takes what the flags leave out from the project's configuration: the words are `deploy --env=prod`", () => {
    const words = { ...none, password: "from .env", defaults: configured };
    expect(deployImage(words)).toEqual({ publish: true, to: { ...configured, password: "from .env" } });
  });

  it("a flag overrides its configured value, field by field", () => {
    const result = deployImage({
      ...none,
      password: "p",
      repository: "acme/other",
      revision: "fedcba9",
      defaults: configured,
    });
    expect(result).toMatchObject({
      publish: true,
      to: { registry: "ghcr.io", repository: "acme/other", revision: "fedcba9" },
    });
  });

  it("an --image beside the configured values (and .env's credentials) is no clash: they only say where to publish", () => {
    const image = `ghcr.io/acme/shop@${digest}`;
    expect(
      deployImage({ ...none, image, password: "from .env", username: "me", defaults: configured }),
    ).toEqual({ publish: false, image });
  });

  it.each([
    [
      { ...publishing, image: `ghcr.io/acme/shop@${digest}` },
      /^--image deploys an image already published: leave out --registry, --repository, --revision, which publish a new one$/,
    ],
    [
      none,
      /^deploy needs to know where to publish; missing: --registry \(or image.registry in deploy\/environments.yaml\), --repository .*, --username .*, --registry-password \(or DEPLOY_REGISTRYPASSWORD=env:\/\/… in .env, see .env.example\), --revision \(or a checkout with .git\/HEAD; .*\)$/,
    ],
    [{ ...publishing, password: undefined }, /missing: --registry-password \(or DEPLOY_REGISTRYPASSWORD/],
    [{ ...none, password: "p", defaults: { ...configured, revision: undefined } }, /missing: --revision /],
  ])("refuses %o with one line", (input, message) => {
    expect(() => deployImage(input)).toThrow(message);
  });

  it("publish settles the same way, naming its own password flag and local default", () => {
    const flags = {
      registry: "",
      repository: "",
      username: "",
      password: undefined,
      revision: "",
      sourceUrl: "",
    };
    expect(() => publishTo(flags, configured, PUBLISH_PASSWORD)).toThrow(
      /^publish needs to know where to publish; missing: --password \(or PUBLISH_PASSWORD=env:\/\/…/,
    );
    expect(publishTo({ ...flags, password: "s" }, configured, PUBLISH_PASSWORD).repository).toBe("Acme/Shop");
    expect(DEPLOY_PASSWORD.localDefault).toBe("DEPLOY_REGISTRYPASSWORD");
  });
});

describe("the project's image section", () => {
  it("is read from the committed file as it stands; the repository is lower-cased when published", () => {
    const file = readFileSync(path.join(repoRoot, ENVIRONMENTS_FILE), "utf8");
    expect(imageSettings(file)).toMatchObject({ registry: "ghcr.io", repository: "acme/shipyard" });
  });

  it("is optional: without it, or without a file, every field comes from flags", () => {
    expect(imageSettings(renamed)).toEqual({});
    expect(imageSettings(undefined)).toEqual({});
  });

  it("a section of the wrong shape is one line naming it", () => {
    expect(() => imageSettings("image: ghcr.io/acme/shop\n")).toThrow(/deploy\/environments.yaml: image: /);
  });
});

describe("a wiring without the environment's entry", () => {
  it("is refused with one line, never guessed from the environment's name", () => {
    expect(() =>
      deployerWiring({
        ...resources,
        command: "status",
        env: "local",
        hasSshKey: false,
        hasDockerSocket: true,
        hostPath: "/home/dev/shop",
      } as unknown as DeployerInput),
    ).toThrow(/--environment: /);
  });
});
