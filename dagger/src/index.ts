/**
 * Build, test, scan and publish a web service, the same way on a laptop and in CI; then set up its
 * server, deploy it, back it up, restore it and roll it back with the repository's deploy CLI.
 *
 * By default every function works on the repository this module lives in (the bundled Node sample app).
 * Point --source at another repository, in any language, with a Dockerfile built from its root (app/Dockerfile
 * or Dockerfile, or --dockerfile) that has a `test` stage running its tests, to run the same pipeline on it:
 * `dagger call --source=examples/fastapi test`.
 */
import {
  argument,
  type Container,
  type Directory,
  type File,
  func,
  object,
  type Secret,
  type Socket,
} from "@dagger.io/dagger";
import { type Deployer, type EnvironmentAccess, openDeployer } from "./deployer.js";
import { ReportFormat, ScanTarget } from "./enums.js";
import { headCommit } from "./git.js";
import { type BuildArg, chooseDockerfile, DOCKERFILE_CANDIDATES, imageBuildArgs } from "./lib/app-build.js";
import { ciReport, settledStep } from "./lib/ci-report.js";
import {
  DEFAULT_DOCKER_CLI_IMAGE,
  DEFAULT_DOCKERFILE,
  DEFAULT_NODE_IMAGE,
  DEFAULT_POSTGRES_IMAGE,
  DEFAULT_REDIS_IMAGE,
  DEFAULT_RUNTIME_IMAGE,
  DEFAULT_SEVERITY_THRESHOLD,
  DEFAULT_TRIVY_IMAGE,
} from "./lib/defaults.js";
import { deployImage, PUBLISH_PASSWORD, type PublishTo, publishTo } from "./lib/deploy-image.js";
import { backupFilePath, DOCKER_SOCKET_PATH } from "./lib/deployer.js";
import {
  ENVIRONMENTS_FILE,
  type EnvironmentFacts,
  environmentFacts,
  imageSettings,
} from "./lib/environments.js";
import { GIT_HEAD_FILES } from "./lib/git-head.js";
import { deployerRecipe } from "./lib/image-recipe.js";
import { imageReferences, parsePublishTarget } from "./lib/image-tags.js";
import { InvalidInputError } from "./lib/invalid-input.js";
import { ociLabels } from "./lib/oci-labels.js";
import { parseModuleOptions } from "./lib/options.js";
import { type CheckResult, publishDecision } from "./lib/publish-gate.js";
import { type PublishedImage, publishedImage, publishReport } from "./lib/published-image.js";
import { formatScanSummary, gateScan, parseSeverityThreshold } from "./lib/scan-gate.js";
import { SOURCE_IGNORE } from "./lib/source-scope.js";
import { MODULE_LOCKFILE, testOutcome } from "./lib/test-plan.js";
import {
  DEFAULT_TEST_REPORT_PATH,
  DEFAULT_TEST_TARGET,
  parseTestStep,
  type TestStep,
} from "./lib/test-step.js";
import { REPORT_FILES, reportFileName } from "./lib/trivy-commands.js";
import { findings, parseTrivyReport, type Severity } from "./lib/trivy-report.js";
import { containerFrom } from "./recipe.js";
import { runTests, type TestRun } from "./test-run.js";
import { trivyReports } from "./trivy.js";

/** The pipeline for one repository: its source and the images every step runs in. */
@object()
export class Shipyard {
  source: Directory;
  nodeImage: string;
  runtimeImage: string;
  postgresImage: string;
  redisImage: string;
  trivyImage: string;
  dockerCliImage: string;
  dockerfile: string;
  testStep: TestStep;

  constructor(
    /**
     * The repository to work on (default: this one). Left out before the upload: git metadata, dependencies,
     * build output, secrets (.env files, TLS keys), the deploy CLI's local state and exported dumps and images.
     */
    @argument({ defaultPath: "/", ignore: SOURCE_IGNORE })
    source: Directory,
    /** Node image the deployer runs in; also passed to the Dockerfile as the NODE_IMAGE build argument. */
    nodeImage: string = DEFAULT_NODE_IMAGE,
    /** What the production image runs on; passed to the Dockerfile as the RUNTIME_IMAGE build argument. */
    runtimeImage: string = DEFAULT_RUNTIME_IMAGE,
    /** Postgres image for the tests' throwaway database. */
    postgresImage: string = DEFAULT_POSTGRES_IMAGE,
    /** Redis image for the tests' throwaway cache. */
    redisImage: string = DEFAULT_REDIS_IMAGE,
    /** Trivy image for the security scans. */
    trivyImage: string = DEFAULT_TRIVY_IMAGE,
    /** Docker CLI image the deployer takes the docker client and its compose v2 plugin from. */
    dockerCliImage: string = DEFAULT_DOCKER_CLI_IMAGE,
    /**
     * The app's Dockerfile, relative to the source, built with the source root as context (default:
     * app/Dockerfile, or else Dockerfile, whichever the source has).
     */
    dockerfile: string = DEFAULT_DOCKERFILE,
    /** The Dockerfile stage the tests run in, with Postgres and Redis bound and DATABASE_URL and REDIS_URL set. */
    testTarget: string = DEFAULT_TEST_TARGET,
    /**
     * The command that runs the tests in that stage, one word per item, e.g. --test-command=pytest,-x
     * (default: the stage's own CMD, after its ENTRYPOINT, as docker run starts it).
     */
    testCommand: string[] = [],
    /** Where the tests write their JUnit report (handed to them as JUNIT_FILE), relative to the stage's WORKDIR. */
    testReportPath: string = DEFAULT_TEST_REPORT_PATH,
  ) {
    const options = parseModuleOptions({
      nodeImage,
      runtimeImage,
      postgresImage,
      redisImage,
      trivyImage,
      dockerCliImage,
      dockerfile,
    });
    // Bad test arguments fail here, before any step starts.
    this.testStep = parseTestStep({ testTarget, testCommand, testReportPath });
    this.source = source;
    this.nodeImage = options.nodeImage;
    this.runtimeImage = options.runtimeImage;
    this.postgresImage = options.postgresImage;
    this.redisImage = options.redisImage;
    this.trivyImage = options.trivyImage;
    this.dockerCliImage = options.dockerCliImage;
    this.dockerfile = options.dockerfile;
  }

  /**
   * The production image, built from the Dockerfile and labelled with where it came from
   * (org.opencontainers.image.revision, .source, .created and .version). Cached like any Dagger function:
   * the same source and arguments return the same image for up to 7 days, .created included (the time of
   * the first build); a changed file, --revision or --version builds again.
   */
  @func()
  async build(
    /** Git commit the image is built from, e.g. $(git rev-parse HEAD). */
    revision = "",
    /** URL of the repository, e.g. https://github.com/acme/shipyard. */
    sourceUrl = "",
    /** Release version, e.g. 1.4.0. */
    version = "",
  ): Promise<Container> {
    const labels = ociLabels({ created: new Date(), revision, sourceUrl, version });
    return Object.entries(labels).reduce(
      (image, [name, value]) => image.withLabel(name, value),
      await this.image(),
    );
  }

  /**
   * The tests, in a container built from the Dockerfile's test stage (--test-target) running its CMD (or
   * --test-command), against throwaway Postgres and Redis services bound as the hosts postgres and redis,
   * with DATABASE_URL and REDIS_URL set. For this repository: lint, type-check, unit and integration tests.
   * Fails when they fail; returns their output. Runs again in every session, even on unchanged source: a
   * pass is never served from an earlier run.
   */
  @func({ cache: "session" })
  async test(
    /** Password for the test database; a random one is generated when left out. */
    dbPassword?: Secret,
  ): Promise<string> {
    const { container: run } = await this.testRun(dbPassword);
    const [exitCode, output] = await Promise.all([run.exitCode(), run.combinedOutput()]);
    const outcome = testOutcome(exitCode, output);
    if (!outcome.passed) throw new Error(outcome.summary);
    return output;
  }

  /**
   * The JUnit XML report of a test run, whether the tests passed or not, e.g.
   * `dagger call test-report export --path=reports/junit.xml`. Runs again in every session, as test does.
   */
  @func({ cache: "session" })
  async testReport(
    /** Password for the test database; a random one is generated when left out. */
    dbPassword?: Secret,
  ): Promise<File> {
    const { container: run, reportPath } = await this.testRun(dbPassword);
    if (!(await run.exists(reportPath))) {
      const outcome = testOutcome(await run.exitCode(), await run.combinedOutput());
      throw new Error(
        `the run stopped before the tests wrote ${reportPath} (lint or type-check failed?):\n${outcome.summary}`,
      );
    }
    return run.file(reportPath);
  }

  /**
   * Scans the production image (OS packages and Node dependencies) and the repository (Dockerfile, compose
   * and other configuration, committed secrets) with Trivy. Fails when anything is found at the given
   * severities; returns a summary of the findings.
   */
  @func({ cache: "session" })
  async scan(
    /** Comma-separated severities that fail the scan: any of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL. */
    severity: string = DEFAULT_SEVERITY_THRESHOLD,
    /** Block on vulnerabilities that have no fixed version yet too (default: list them, do not block). */
    blockUnfixed = false,
  ): Promise<string> {
    const threshold = parseSeverityThreshold(severity);
    const result = await this.scanCheck(await this.image(), threshold, blockUnfixed);
    if (!result.passed) throw new Error(result.summary);
    return result.summary;
  }

  /** One scan report as a file, e.g. `dagger call scan-report --target=IMAGE --format=SARIF export --path=image.sarif`. */
  @func({ cache: "session" })
  async scanReport(
    /** Which scan: IMAGE (the production image) or SOURCE (the repository's configuration and secrets). */
    target: ScanTarget = ScanTarget.Image,
    /** JSON (Trivy's own) or SARIF (for code-scanning services). */
    format: ReportFormat = ReportFormat.Sarif,
  ): Promise<File> {
    return this.reports(await this.image()).file(reportFileName(target, format));
  }

  /** Every scan report in one directory: image and source, JSON and SARIF, and the image's CycloneDX SBOM. */
  @func({ cache: "session" })
  async scanReports(): Promise<Directory> {
    return this.reports(await this.image());
  }

  /** The production image's software bill of materials (CycloneDX JSON): every OS and Node package it ships. */
  @func({ cache: "session" })
  async sbom(): Promise<File> {
    return this.reports(await this.image()).file(REPORT_FILES.sbom);
  }

  /**
   * Tests and scans the image, then pushes it tagged sha-<revision> (and <version> when given). Refuses to
   * publish when the tests or the scan failed, unless --allow-failed-checks is given. Returns each pushed
   * reference with its digest, one per line. Where it pushes comes from deploy/environments.yaml's image
   * section, the revision from the checkout's HEAD and the password from .env, unless the flags say otherwise.
   */
  @func({ cache: "never" })
  async publish(
    /** Registry host, e.g. ghcr.io or registry.example.com:5000 (default: image.registry in deploy/environments.yaml). */
    registry = "",
    /** Repository path in the registry, e.g. acme/shipyard, lower-cased (default: image.repository). */
    repository = "",
    /** Registry user name (default: image.username). */
    username = "",
    /** Registry password or token, e.g. env://REGISTRY_PASSWORD (or PUBLISH_PASSWORD in .env, see .env.example). */
    password?: Secret,
    /** Git commit the image is built from, tagged sha-<first 12 hex digits> (default: the checkout's HEAD). */
    revision = "",
    /** Release version, pushed as a second tag, e.g. 1.4.0. */
    version = "",
    /** URL of the repository, recorded in the image's labels (default: image.sourceUrl). */
    sourceUrl = "",
    /** Comma-separated severities that fail the scan. */
    severity: string = DEFAULT_SEVERITY_THRESHOLD,
    /** Publish even when the tests or the scan failed (the failures are still reported). */
    allowFailedChecks = false,
    /** Block on vulnerabilities that have no fixed version yet too (default: list them, do not block). */
    blockUnfixed = false,
    /** The checkout whose HEAD commit is the default revision; only .git/HEAD and .git's refs are read. */
    @argument({ defaultPath: "/", ignore: GIT_HEAD_FILES })
    checkout?: Directory,
  ): Promise<string> {
    const flags = { registry, repository, username, password, revision, sourceUrl };
    const defaults = {
      ...imageSettings(await this.environmentsFile()),
      ...(revision.trim() ? {} : { revision: await this.headRevision(checkout) }),
    };
    const to = publishTo(flags, defaults, PUBLISH_PASSWORD);
    const published = await this.publishImage(
      { ...to, version },
      { severity, allowFailedChecks, blockUnfixed },
    );
    return publishReport(published);
  }

  /**
   * The pull-request pipeline in one call: test, scan and build, run in parallel. Fails when any of them
   * fails; returns a report of each.
   */
  @func({ cache: "session" })
  async ci(
    /** Git commit being checked, recorded in the image's labels. */
    revision = "",
    /** URL of the repository, recorded in the image's labels. */
    sourceUrl = "",
    /** Comma-separated severities that fail the scan. */
    severity: string = DEFAULT_SEVERITY_THRESHOLD,
    /** Block on vulnerabilities that have no fixed version yet too (default: list them, do not block). */
    blockUnfixed = false,
  ): Promise<string> {
    // Bad arguments fail here, before any step starts.
    const threshold = parseSeverityThreshold(severity);
    const [labelled, image, dockerfile] = await Promise.all([
      this.build(revision, sourceUrl),
      this.image(),
      this.dockerfilePath(),
    ]);

    const [test, scan, build] = await Promise.allSettled([
      this.testCheck().then(({ passed, summary }) => ({ passed, detail: summary })),
      this.scanCheck(image, threshold, blockUnfixed).then(({ passed, summary }) => ({
        passed,
        detail: summary,
      })),
      labelled.sync().then(() => ({ passed: true, detail: `built the production image from ${dockerfile}` })),
    ]);
    const report = ciReport([
      settledStep("test", test),
      settledStep("scan", scan),
      settledStep("build", build),
    ]);
    if (!report.passed) throw new Error(report.text);
    return report.text;
  }

  /**
   * Tests, scans and publishes the image (as publish does), then releases it to the environment by digest
   * with zero downtime: lock, verified backup, migrations, new containers beside the old, nginx switch,
   * health check, ledger; rolled back automatically on failure. Returns the deploy CLI's JSON report. Once
   * the project is configured (deploy/environments.yaml's image section, .env from .env.example) the words
   * are `dagger call deploy --env=prod`: every flag below only overrides.
   */
  @func({ cache: "never" })
  async deploy(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /**
     * An image already published, pinned by digest (what publish prints), e.g. from an earlier job: it is
     * deployed as it is, without testing, scanning or publishing again. Leave out the registry arguments.
     */
    image = "",
    /** Registry host, e.g. ghcr.io (default: image.registry in deploy/environments.yaml; not with --image). */
    registry = "",
    /** Repository path in the registry, e.g. acme/shipyard, lower-cased (default: image.repository; not with --image). */
    repository = "",
    /** Registry user name (default: image.username). */
    username = "",
    /** Registry password or token, e.g. env://REGISTRY_PASSWORD (or DEPLOY_REGISTRYPASSWORD in .env, see .env.example). */
    registryPassword?: Secret,
    /** Git commit being deployed, tagged sha-<first 12 hex digits> (default: the checkout's HEAD; not with --image). */
    revision = "",
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
    /** The database URL, for environments with database.dumpFrom: url; exported under the environment's database.urlEnv. */
    databaseUrl?: Secret,
    /** Release version, pushed as a second tag, e.g. 1.4.0. */
    version = "",
    /** Release name shown by /version and kept in the ledger (default: a UTC timestamp). */
    release = "",
    /** URL of the repository, recorded in the image's labels (default: image.sourceUrl). */
    sourceUrl = "",
    /** Comma-separated severities that fail the scan. */
    severity: string = DEFAULT_SEVERITY_THRESHOLD,
    /** Block on vulnerabilities that have no fixed version yet too (default: list them, do not block). */
    blockUnfixed = false,
    /** The off-site store's access key id, for environments with backup.upload, e.g. env://S3_ACCESS_KEY_ID. */
    s3AccessKeyId?: Secret,
    /** The off-site store's secret access key, e.g. env://S3_SECRET_ACCESS_KEY. */
    s3SecretAccessKey?: Secret,
    /**
     * The webhook's URL, a Secret (e.g. env://SHIPYARD_WEBHOOK_URL), for environments with notify: exported
     * under the environment's notify.webhookUrlEnv; the CLI posts the result there.
     */
    webhookUrl?: Secret,
    /** The checkout whose HEAD commit is the default revision; only .git/HEAD and .git's refs are read. */
    @argument({ defaultPath: "/", ignore: GIT_HEAD_FILES })
    checkout?: Directory,
  ): Promise<string> {
    // Bad arguments fail here, before the tests, the scan and the push.
    const file = await this.environmentsFile();
    const environment = this.environment(file, env);
    const publishing = image.trim() === "";
    const source = deployImage({
      image,
      registry,
      repository,
      username,
      password: registryPassword,
      revision,
      sourceUrl,
      defaults: {
        ...imageSettings(file),
        ...(publishing && !revision.trim() ? { revision: await this.headRevision(checkout) } : {}),
      },
    });
    const access = { env, sshKey, dockerSocket, dockerSocketPath, hostPath, databaseUrl };
    const deployer = await this.deployer(
      { ...access, s3AccessKeyId, s3SecretAccessKey, webhookUrl },
      environment,
    );
    const released = source.publish
      ? (
          await this.publishImage(
            { ...source.to, version },
            { severity, allowFailedChecks: false, blockUnfixed },
          )
        ).pinned
      : source.image;
    return (await deployer.run({ command: "deploy", image: released, release })).outcome.json;
  }

  /**
   * A verified backup of the environment's database: pg_dump (custom format), restored into a throwaway
   * Postgres and checked table by table for exact row counts before it is returned, e.g.
   * `dagger call backup --env=prod --ssh-key=env://DEPLOY_SSH_KEY export --path=backups/prod.dump`.
   */
  @func({ cache: "never" })
  async backup(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
    /** The database URL, for environments with database.dumpFrom: url; exported under the environment's database.urlEnv. */
    databaseUrl?: Secret,
    /** The off-site store's access key id, for environments with backup.upload, e.g. env://S3_ACCESS_KEY_ID. */
    s3AccessKeyId?: Secret,
    /** The off-site store's secret access key, e.g. env://S3_SECRET_ACCESS_KEY. */
    s3SecretAccessKey?: Secret,
    /**
     * The webhook's URL, a Secret (e.g. env://SHIPYARD_WEBHOOK_URL), for environments with notify: exported
     * under the environment's notify.webhookUrlEnv; the CLI posts the result there.
     */
    webhookUrl?: Secret,
  ): Promise<File> {
    const environment = this.environment(await this.environmentsFile(), env);
    const access = { env, sshKey, dockerSocket, dockerSocketPath, hostPath, databaseUrl };
    const deployer = await this.deployer(
      { ...access, s3AccessKeyId, s3SecretAccessKey, webhookUrl },
      environment,
    );
    const run = await deployer.run({ command: "backup" });
    // With backup.encryptTo the file handed back is the age-encrypted one, never a plain dump.
    return deployer.file(run, backupFilePath(run.outcome.result, environment));
  }

  /**
   * Replaces the environment's data with a backup file (one the backup function returned): the file is
   * verified on a throwaway Postgres first, a safety backup of the current data is taken, and the result
   * is checked table by table. Returns the deploy CLI's JSON report.
   */
  @func({ cache: "never" })
  async restore(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** A pg_dump custom-format file, e.g. ./backups/prod.dump. */
    backupFile: File,
    /** The environment's name again, where it requires confirmation (prod): --confirm=prod. */
    confirm = "",
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
    /** The database URL, for environments with database.dumpFrom: url; exported under the environment's database.urlEnv. */
    databaseUrl?: Secret,
    /** The off-site store's access key id, for environments with backup.upload, e.g. env://S3_ACCESS_KEY_ID. */
    s3AccessKeyId?: Secret,
    /** The off-site store's secret access key, e.g. env://S3_SECRET_ACCESS_KEY. */
    s3SecretAccessKey?: Secret,
  ): Promise<string> {
    const deployer = await this.deployer({
      env,
      sshKey,
      dockerSocket,
      dockerSocketPath,
      hostPath,
      databaseUrl,
      s3AccessKeyId,
      s3SecretAccessKey,
    });
    return (await deployer.run({ command: "restore", confirm }, backupFile)).outcome.json;
  }

  /**
   * Brings back the previous good release (or --to=RELEASE) the same zero-downtime way a deploy switches.
   * Returns the deploy CLI's JSON report.
   */
  @func({ cache: "never" })
  async rollback(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** Release to return to, from the ledger (see status); default: the one before the current. */
    to = "",
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
    /** The database URL, for environments with database.dumpFrom: url; exported under the environment's database.urlEnv. */
    databaseUrl?: Secret,
    /** The off-site store's access key id, for environments with backup.upload, e.g. env://S3_ACCESS_KEY_ID. */
    s3AccessKeyId?: Secret,
    /** The off-site store's secret access key, e.g. env://S3_SECRET_ACCESS_KEY. */
    s3SecretAccessKey?: Secret,
    /**
     * The webhook's URL, a Secret (e.g. env://SHIPYARD_WEBHOOK_URL), for environments with notify: exported
     * under the environment's notify.webhookUrlEnv; the CLI posts the result there.
     */
    webhookUrl?: Secret,
  ): Promise<string> {
    const deployer = await this.deployer({
      env,
      sshKey,
      dockerSocket,
      dockerSocketPath,
      hostPath,
      databaseUrl,
      s3AccessKeyId,
      s3SecretAccessKey,
      webhookUrl,
    });
    return (await deployer.run({ command: "rollback", to })).outcome.json;
  }

  /**
   * Prepares a new server for its first deploy: checks Docker and compose, makes the directories, the
   * configuration, compose/.env with fresh secrets (mode 0600; on a swarm, the swarm's secrets and a
   * compose/.env without any), nginx's upstream and a temporary self-signed certificate, each only where it
   * is missing (a second run changes nothing and says so). Returns the deploy CLI's JSON report.
   */
  @func({ cache: "never" })
  async setup(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
    /**
     * The admin token to use rather than a fresh one, e.g. env://ADMIN_TOKEN from your password manager: on
     * a swarm no file keeps it, and the swarm never gives a secret back.
     */
    adminToken?: Secret,
  ): Promise<string> {
    const deployer = await this.deployer({
      env,
      sshKey,
      dockerSocket,
      dockerSocketPath,
      hostPath,
      adminToken,
    });
    return (await deployer.run({ command: "setup" })).outcome.json;
  }

  /** Health through the public URL, the current release, the deploy lock, recent releases and backups, as JSON. */
  @func({ cache: "never" })
  async status(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
  ): Promise<string> {
    const deployer = await this.deployer({ env, sshKey, dockerSocket, dockerSocketPath, hostPath });
    return (await deployer.run({ command: "status" })).outcome.json;
  }

  /**
   * The newest records of the environment's audit log on the host (deploy, rollback, backup, restore, setup,
   * lock break: who, when, result, how long), oldest first, as the deploy CLI's JSON.
   */
  @func({ cache: "never" })
  async audit(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** How many records, the newest ones (default 10). */
    limit?: number,
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
  ): Promise<string> {
    const deployer = await this.deployer({ env, sshKey, dockerSocket, dockerSocketPath, hostPath });
    const command = { command: "audit", ...(limit === undefined ? {} : { limit: String(limit) }) } as const;
    return (await deployer.run(command)).outcome.json;
  }

  /**
   * A service's recent log lines on the environment's host, as the deploy CLI's JSON (`result.stdout`, one
   * string a line). To follow them live, run `npm run shipyard -- logs --env=NAME --follow` instead: a
   * function returns once.
   */
  @func({ cache: "never" })
  async logs(
    /** Environment from deploy/environments.yaml, e.g. prod, staging or local. */
    env: string,
    /** app (the default), nginx, postgres or redis. */
    service = "",
    /** Only lines this recent: a duration (90s, 10m, 1h30m) or an RFC 3339 time (needs compose v2 on the host). */
    since = "",
    /** The last N lines, or all (default: 100, all with --since). */
    tail = "",
    /** Private SSH key for the environment's host, e.g. env://DEPLOY_SSH_KEY (for target.kind ssh). */
    sshKey?: Secret,
    /** The host's Docker socket, for an environment with target.kind local: --docker-socket=/var/run/docker.sock. */
    dockerSocket?: Socket,
    /** Where the host keeps that socket, if not at /var/run/docker.sock (rootless Docker: /run/user/UID/docker.sock). */
    dockerSocketPath: string = DOCKER_SOCKET_PATH,
    /** The checkout's absolute path on the host, for target.kind local: --host-path=$PWD (the CLI then runs there). */
    hostPath = "",
  ): Promise<string> {
    const deployer = await this.deployer({ env, sshKey, dockerSocket, dockerSocketPath, hostPath });
    return (await deployer.run({ command: "logs", service, since, tail })).outcome.json;
  }

  /**
   * The image without provenance labels. Scans use it: labels do not change what is in the image, and
   * leaving out the build time keeps a repeated scan of the same source cacheable.
   */
  private async image(): Promise<Container> {
    return this.source.dockerBuild({
      dockerfile: await this.dockerfilePath(),
      buildArgs: this.buildArgs(),
    });
  }

  /** The images the Dockerfile starts from, for the image and its test stage alike. */
  private buildArgs(): BuildArg[] {
    return imageBuildArgs({ nodeImage: this.nodeImage, runtimeImage: this.runtimeImage });
  }

  /** --dockerfile, or the first of app/Dockerfile and Dockerfile the source has. */
  private async dockerfilePath(): Promise<string> {
    if (this.dockerfile !== "") return this.dockerfile;
    const present = await Promise.all(
      DOCKERFILE_CANDIDATES.map(async (path) => ((await this.source.exists(path)) ? [path] : [])),
    );
    return chooseDockerfile(this.dockerfile, present.flat());
  }

  /**
   * Tests and scans the image, then pushes it under each of its tags: what publish and deploy share. Bad
   * arguments fail before anything runs; failed checks stop the push unless allowFailedChecks.
   */
  private async publishImage(
    to: PublishTo<Secret> & { version: string },
    checks: { severity: string; allowFailedChecks: boolean; blockUnfixed: boolean },
  ): Promise<PublishedImage> {
    const target = parsePublishTarget(to);
    const references = imageReferences(target);
    const threshold = parseSeverityThreshold(checks.severity);
    const [image, unlabelled] = await Promise.all([
      this.build(target.revision, to.sourceUrl, target.version ?? ""),
      this.image(),
    ]);

    const [test, scan] = await Promise.all([
      this.testCheck(),
      this.scanCheck(unlabelled, threshold, checks.blockUnfixed),
    ]);
    const decision = publishDecision({ test, scan }, checks.allowFailedChecks);
    if (!decision.publish) throw new Error(decision.reason);

    const authenticated = image.withRegistryAuth(target.registry, to.username, to.password);
    const pushed: string[] = [];
    for (const reference of references) pushed.push(await authenticated.publish(reference));
    return publishedImage(pushed, decision);
  }

  /** The source's environments file, or undefined when it has none (publish then takes every field from flags). */
  private async environmentsFile(): Promise<string | undefined> {
    if (!(await this.source.exists(ENVIRONMENTS_FILE))) return undefined;
    return this.source.file(ENVIRONMENTS_FILE).contents();
  }

  /** The environment `env` names, as the deploy functions wire it. */
  private environment(file: string | undefined, env: string): EnvironmentFacts {
    if (file === undefined)
      throw new InvalidInputError(`--env: the source has no ${ENVIRONMENTS_FILE} to find "${env}" in`);
    return environmentFacts(file, env.trim());
  }

  /** The checkout's HEAD commit, for a revision left out; undefined without readable git metadata. */
  private async headRevision(checkout: Directory | undefined): Promise<string | undefined> {
    return checkout ? headCommit(checkout) : undefined;
  }

  /**
   * The deployer for the environment `access.env` names, built once from the arguments every deploy function
   * shares. How it is reached and where its database URL goes are read from the source's environments file
   * (or given, when the caller has read it already).
   */
  private async deployer(access: EnvironmentAccess, known?: EnvironmentFacts): Promise<Deployer> {
    const environment = known ?? this.environment(await this.environmentsFile(), access.env);
    const recipe = deployerRecipe({
      nodeImage: this.nodeImage,
      dockerCliImage: this.dockerCliImage,
      hasModulePackage: await this.source.exists(MODULE_LOCKFILE),
      now: new Date(),
    });
    const image = containerFrom(recipe, this.source);
    return openDeployer({ image, environment, postgresImage: this.postgresImage }, access);
  }

  /** One run of the tests against fresh services (test-run.ts): the stage the Dockerfile names, as configured. */
  private async testRun(dbPassword?: Secret): Promise<TestRun> {
    return runTests({
      source: this.source,
      dockerfile: await this.dockerfilePath(),
      buildArgs: this.buildArgs(),
      step: this.testStep,
      postgresImage: this.postgresImage,
      redisImage: this.redisImage,
      ...(dbPassword ? { dbPassword } : {}),
    });
  }

  private async testCheck(): Promise<CheckResult> {
    const { container: run } = await this.testRun();
    const [exitCode, output] = await Promise.all([run.exitCode(), run.combinedOutput()]);
    return testOutcome(exitCode, output);
  }

  private reports(image: Container): Directory {
    return trivyReports({ trivyImage: this.trivyImage, image, source: this.source, now: new Date() });
  }

  private async scanCheck(
    image: Container,
    threshold: Severity[],
    blockUnfixed: boolean,
  ): Promise<CheckResult> {
    const reports = this.reports(image);
    const [imageJson, sourceJson] = await Promise.all([
      reports.file(REPORT_FILES.imageJson).contents(),
      reports.file(REPORT_FILES.sourceJson).contents(),
    ]);
    const gate = gateScan(
      [
        { name: "image", findings: findings(parseTrivyReport(imageJson)) },
        { name: "source", findings: findings(parseTrivyReport(sourceJson)) },
      ],
      threshold,
      { blockUnfixed },
    );
    return { passed: gate.passed, summary: formatScanSummary(gate) };
  }
}
