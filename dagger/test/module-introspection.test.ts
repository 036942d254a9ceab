/**
 * Registers the module the way the engine does, without an engine: the TypeScript SDK's own introspector
 * (the code the module's runtime container runs to tell Dagger which functions exist) reads src/.
 * Stand-in: the engine generates a client.gen.ts for the module; the published SDK ships the same API as
 * client.gen.d.ts, which is copied under that name.
 */
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scan } from "../node_modules/@dagger.io/dagger/dist/src/module/introspector/index.js";
import {
  DEFAULT_DOCKER_CLI_IMAGE,
  DEFAULT_DOCKERFILE,
  DEFAULT_NODE_IMAGE,
  DEFAULT_POSTGRES_IMAGE,
  DEFAULT_REDIS_IMAGE,
  DEFAULT_RUNTIME_IMAGE,
  DEFAULT_SEVERITY_THRESHOLD,
  DEFAULT_TRIVY_IMAGE,
} from "../src/lib/defaults.js";
import { GIT_HEAD_FILES } from "../src/lib/git-head.js";
import { SOURCE_IGNORE } from "../src/lib/source-scope.js";
import { DEFAULT_TEST_REPORT_PATH, DEFAULT_TEST_TARGET } from "../src/lib/test-step.js";

const moduleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Arg {
  description?: string;
  type?: { kind: string; name?: string };
  defaultValue?: unknown;
  defaultPath?: string;
  ignore?: string[];
  isOptional: boolean;
}
interface Fn {
  description?: string;
  arguments: Record<string, Arg>;
  returnType?: { kind: string; name?: string };
  cache?: string;
}
interface Introspected {
  name: string;
  description?: string;
  objects: Record<
    string,
    { description?: string; methods: Record<string, Fn>; _constructor?: { arguments: Record<string, Arg> } }
  >;
  enums: Record<string, { values: Record<string, { value: string }> }>;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name));
}

let tempDir: string;
let mod: Introspected;

beforeAll(async () => {
  tempDir = await mkdtemp(path.join(tmpdir(), "shipyard-introspect-"));
  const clientGen = path.join(tempDir, "client.gen.ts");
  await copyFile(
    path.join(moduleDir, "node_modules/@dagger.io/dagger/dist/src/api/client.gen.d.ts"),
    clientGen,
  );
  const files = [...(await sourceFiles(path.join(moduleDir, "src"))), clientGen];
  mod = (await scan(files, "shipyard", false)) as unknown as Introspected;
}, 60_000);

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

const shipyard = () => {
  const object = mod.objects.Shipyard;
  if (!object) throw new Error("the module registered no Shipyard object");
  return object;
};
const fn = (name: string) => {
  const f = shipyard().methods[name];
  if (!f) throw new Error(`no function ${name}`);
  return f;
};

describe("the module as Dagger registers it", () => {
  it("exposes the pipeline's functions on the Shipyard object", () => {
    expect(mod.name).toBe("Shipyard");
    expect(Object.keys(shipyard().methods).sort()).toEqual(
      [
        "build",
        "ci",
        "publish",
        "sbom",
        "scan",
        "scanReport",
        "scanReports",
        "test",
        "testReport",
        "deploy",
        "backup",
        "restore",
        "rollback",
        "setup",
        "status",
        "audit",
        "logs",
      ].sort(),
    );
  });

  it("documents every function and argument, for dagger call --help", () => {
    expect(mod.description).toMatch(/^Build, test, scan and publish/);
    expect(mod.description).toMatch(/deploy it,\s+back it up, restore it and roll it back/);
    expect(shipyard().description).not.toBe("");
    const undocumented: string[] = [];
    const constructorArgs = shipyard()._constructor?.arguments ?? {};
    for (const [name, arg] of Object.entries(constructorArgs))
      if (!arg.description) undocumented.push(`constructor ${name}`);
    for (const [fnName, f] of Object.entries(shipyard().methods)) {
      if (!f.description) undocumented.push(fnName);
      for (const [argName, arg] of Object.entries(f.arguments))
        if (!arg.description) undocumented.push(`${fnName} ${argName}`);
    }
    expect(undocumented).toEqual([]);
  });

  it("defaults the source to the repository root, leaving out what source-scope.ts lists (checked against .gitignore)", () => {
    const source = shipyard()._constructor?.arguments.source;
    expect(source?.type).toEqual({ kind: "OBJECT_KIND", name: "Directory" });
    expect(source?.defaultPath).toBe("/");
    // The list the engine applies at upload is the very list the ignore tests check.
    expect(source?.ignore).toEqual([...SOURCE_IGNORE]);
  });

  it("defaults every image to its pinned version, each overridable by argument", () => {
    const args = shipyard()._constructor?.arguments ?? {};
    expect(args.nodeImage?.defaultValue).toBe(DEFAULT_NODE_IMAGE);
    expect(args.runtimeImage?.defaultValue).toBe(DEFAULT_RUNTIME_IMAGE);
    expect(args.postgresImage?.defaultValue).toBe(DEFAULT_POSTGRES_IMAGE);
    expect(args.redisImage?.defaultValue).toBe(DEFAULT_REDIS_IMAGE);
    expect(args.trivyImage?.defaultValue).toBe(DEFAULT_TRIVY_IMAGE);
    expect(args.dockerCliImage?.defaultValue).toBe(DEFAULT_DOCKER_CLI_IMAGE);
    expect(args.dockerfile?.defaultValue).toBe(DEFAULT_DOCKERFILE);
  });

  it("runs the tests in the Dockerfile's test stage, its command and report path overridable", () => {
    const args = shipyard()._constructor?.arguments ?? {};
    expect(args.testScript).toBeUndefined();
    expect(args.testTarget).toMatchObject({
      type: { kind: "STRING_KIND" },
      defaultValue: DEFAULT_TEST_TARGET,
    });
    expect(args.testCommand).toMatchObject({
      type: { kind: "LIST_KIND", typeDef: { kind: "STRING_KIND" } },
      defaultValue: [],
    });
    expect(args.testReportPath?.defaultValue).toBe(DEFAULT_TEST_REPORT_PATH);
  });

  it("takes secrets only as Secret, never as plain strings", () => {
    expect(fn("publish").arguments.password?.type).toEqual({ kind: "OBJECT_KIND", name: "Secret" });
    expect(fn("test").arguments.dbPassword).toMatchObject({
      type: { kind: "OBJECT_KIND", name: "Secret" },
      isOptional: true,
    });
  });

  it("never caches a publish or anything that acts on an environment, and re-runs tests and scans in every session", () => {
    for (const name of ["publish", "deploy", "backup", "restore", "rollback", "setup", "status"])
      expect(fn(name).cache, name).toBe("never");
    for (const name of ["scan", "scanReport", "scanReports", "sbom", "ci", "test", "testReport"])
      expect(fn(name).cache, name).toBe("session");
    // build keeps Dagger's default (cached on unchanged source and arguments), as its documentation says.
    expect(fn("build").cache).toBeUndefined();
    expect(fn("build").description).toMatch(
      /same source and arguments return the same image for up to 7 days/,
    );
  });

  it("returns what each function promises: an image, files, text", () => {
    expect(fn("build").returnType).toEqual({ kind: "OBJECT_KIND", name: "Container" });
    expect(fn("testReport").returnType).toEqual({ kind: "OBJECT_KIND", name: "File" });
    expect(fn("sbom").returnType).toEqual({ kind: "OBJECT_KIND", name: "File" });
    expect(fn("scanReports").returnType).toEqual({ kind: "OBJECT_KIND", name: "Directory" });
    for (const name of ["test", "scan", "publish", "ci"])
      expect(fn(name).returnType).toEqual({ kind: "STRING_KIND" });
  });

  it("offers scan reports per target and format as enums, SARIF of the image by default", () => {
    expect(fn("scanReport").arguments.target).toMatchObject({
      type: { kind: "ENUM_KIND", name: "ScanTarget" },
      defaultValue: "IMAGE",
    });
    expect(fn("scanReport").arguments.format).toMatchObject({
      type: { kind: "ENUM_KIND", name: "ReportFormat" },
      defaultValue: "SARIF",
    });
    expect(Object.values(mod.enums.ScanTarget?.values ?? {}).map((v) => v.value)).toEqual([
      "IMAGE",
      "SOURCE",
    ]);
    expect(Object.values(mod.enums.ReportFormat?.values ?? {}).map((v) => v.value)).toEqual([
      "JSON",
      "SARIF",
    ]);
  });

  it("requires nothing of a publish: the environments file, the checkout's HEAD and .env say it", () => {
    const args = fn("publish").arguments;
    const required = Object.entries(args)
      .filter(([, a]) => !a.isOptional && a.defaultValue === undefined)
      .map(([name]) => name);
    expect(required).toEqual([]);
    for (const name of ["registry", "repository", "username", "revision"])
      expect(args[name]?.defaultValue, name).toBe("");
    expect(args.password).toMatchObject({ type: { kind: "OBJECT_KIND", name: "Secret" }, isOptional: true });
    expect(args.severity?.defaultValue).toBe(DEFAULT_SEVERITY_THRESHOLD);
    expect(args.allowFailedChecks?.defaultValue).toBe(false);
  });
});

describe("the deploy functions as Dagger registers them", () => {
  const secret = { kind: "OBJECT_KIND", name: "Secret" };
  const required = (name: string) =>
    Object.entries(fn(name).arguments)
      .filter(([, a]) => !a.isOptional && a.defaultValue === undefined)
      .map(([argName]) => argName);

  it("takes the SSH key, registry password and database URL only as Secrets, the Docker socket as a Socket", () => {
    for (const name of ["deploy", "backup", "restore", "rollback", "setup", "status"]) {
      const args = fn(name).arguments;
      expect(args.sshKey, name).toMatchObject({ type: secret, isOptional: true });
      expect(args.dockerSocket, name).toMatchObject({
        type: { kind: "OBJECT_KIND", name: "Socket" },
        isOptional: true,
      });
      if (args.databaseUrl) expect(args.databaseUrl.type, name).toEqual(secret);
    }
    expect(fn("deploy").arguments.registryPassword?.type).toEqual(secret);
  });

  it("requires what each cannot guess, and defaults the rest", () => {
    // deploy takes either --image (already published) or the registry arguments: lib/deploy-image.ts decides.
    expect(required("deploy")).toEqual(["env"]);
    expect(fn("deploy").arguments.image).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "" });
    expect(fn("deploy").arguments.registryPassword).toMatchObject({ isOptional: true });
    for (const name of ["deploy", "backup", "restore", "rollback", "setup", "status"])
      expect(fn(name).arguments.dockerSocketPath?.defaultValue, name).toBe("/var/run/docker.sock");
    expect(required("backup")).toEqual(["env"]);
    expect(required("restore")).toEqual(["env", "backupFile"]);
    expect(required("rollback")).toEqual(["env"]);
    expect(required("setup")).toEqual(["env"]);
    expect(required("status")).toEqual(["env"]);
    expect(fn("deploy").arguments.severity?.defaultValue).toBe(DEFAULT_SEVERITY_THRESHOLD);
    expect(fn("rollback").arguments.to?.defaultValue).toBe("");
    expect(fn("restore").arguments.confirm?.defaultValue).toBe("");
  });

  it("takes the access arguments every function shares alike: same names, types, defaults and help", () => {
    // EnvironmentAccess in src/deployer.ts: what openDeployer builds every deployer from.
    const reach = ["env", "sshKey", "dockerSocket", "dockerSocketPath", "hostPath"];
    const backups = ["databaseUrl", "s3AccessKeyId", "s3SecretAccessKey"];
    const takes: Record<string, string[]> = {
      deploy: [...reach, ...backups],
      backup: [...reach, ...backups],
      restore: [...reach, ...backups],
      rollback: [...reach, ...backups],
      // setup prepares a host with no data yet: no backup, so no database URL or off-site keys.
      setup: reach,
      status: reach,
    };
    for (const [name, shared] of Object.entries(takes)) {
      const args = fn(name).arguments;
      for (const argName of shared) {
        const { description, type, defaultValue, isOptional } = args[argName] ?? {};
        const {
          description: d,
          type: t,
          defaultValue: v,
          isOptional: o,
        } = fn("backup").arguments[argName] ?? {};
        expect({ description, type, defaultValue, isOptional }, `${name} ${argName}`).toEqual({
          description: d,
          type: t,
          defaultValue: v,
          isOptional: o,
        });
      }
    }
  });

  it("reads the revision from the checkout's .git/HEAD and refs alone, for deploy and publish", () => {
    for (const name of ["deploy", "publish"]) {
      const checkout = fn(name).arguments.checkout;
      expect(checkout, name).toMatchObject({
        type: { kind: "OBJECT_KIND", name: "Directory" },
        defaultPath: "/",
        ignore: [...GIT_HEAD_FILES],
      });
    }
  });

  it("asks for nothing the environments file already says: the database URL goes under its database.urlEnv", () => {
    for (const name of ["deploy", "backup", "restore", "rollback", "setup", "status"])
      expect(Object.keys(fn(name).arguments), name).not.toContain("databaseUrlVariable");
    expect(fn("backup").arguments.databaseUrl?.description).toMatch(/database\.urlEnv/);
  });

  it("backup returns the verified dump as a File, restore takes one; the others report in text", () => {
    expect(fn("backup").returnType).toEqual({ kind: "OBJECT_KIND", name: "File" });
    expect(fn("restore").arguments.backupFile?.type).toEqual({ kind: "OBJECT_KIND", name: "File" });
    for (const name of ["deploy", "restore", "rollback", "setup", "status"])
      expect(fn(name).returnType, name).toEqual({ kind: "STRING_KIND" });
  });
});
