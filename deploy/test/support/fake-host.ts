/**
 * The host's side of backups kept on the server, for FakeRunner: a file system of the files those commands
 * write, move and remove (dumps, catalog.json, its lock), and the throw-away containers started and removed,
 * so a test can check what a failure leaves on the server, not only which commands ran.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "../../src/commands/argv.js";
import { CATALOG_LOCK_HELD } from "../../src/commands/server-backup.js";
import type { Answer } from "./fake-runner.js";

export const IMAGE_ID = `sha256:${"ab".repeat(32)}`;

export class FakeHost {
  readonly files = new Map<string, Buffer>();
  readonly directories = new Set<string>();
  /** Throw-away containers started and not yet removed, by name. */
  readonly containers = new Set<string>();
  /** What a dump on the server writes. */
  dumpText = "PGDMP on the server";
  dockerRoot: { path: string; mount: string; free: number } | null = {
    path: "/var/lib/docker",
    mount: "/",
    free: 50_000_000_000,
  };
  directoryFree = { mount: "/", free: 50_000_000_000 };

  /**
   * `dumpReport`: the dump's stderr (the source's counts at its snapshot, pg_dump's exit status);
   * `restoredCounts`: what psql in the throw-away prints after the restore.
   */
  constructor(
    public dumpReport: string,
    public restoredCounts: string,
  ) {}

  /** Files under `directory`, by name, sorted. */
  list(directory: string): string[] {
    return [...this.files.keys()]
      .filter((f) => f.startsWith(`${directory}/`))
      .map((f) => f.slice(directory.length + 1))
      .sort();
  }

  /** The answer of a host command about backups kept on the server, or undefined for any other. */
  answer(c: Command): Answer {
    const [program, flag, , name, ...args] = c.argv;
    if (program === "sh" && flag === "-c") return this.script(name ?? "", args, c);
    if (program === "mv") {
      const [from = "", to = ""] = c.argv.slice(3);
      const content = this.files.get(from);
      if (!content) return { exitCode: 1, stderr: `mv: cannot stat '${from}'` };
      this.files.delete(from);
      this.files.set(to, content);
      return {};
    }
    if (program === "rm" && flag === "-f") {
      for (const file of c.argv.slice(3)) this.files.delete(file);
      return {};
    }
    if (program === "rmdir") {
      this.directories.delete(c.argv[2] ?? "");
      return {};
    }
    if (program === "cat" && c.stdoutFile) {
      const content = this.files.get(c.argv[2] ?? "");
      if (!content) return { exitCode: 1, stderr: "cat: No such file or directory" };
      writeFileSync(c.stdoutFile, content);
      return {};
    }
    if (program === "docker" && flag === "run") {
      const named = c.argv.find((a) => a.startsWith("--name="))?.slice(7) ?? "";
      this.containers.add(named);
      return { stdout: `${"f".repeat(64)}\n` };
    }
    if (program === "docker" && flag === "exec" && c.argv.includes("psql"))
      return { stdout: this.restoredCounts };
    return undefined;
  }

  private script(name: string, args: string[], c: Command): Answer {
    const [first = "", ...rest] = args;
    switch (name) {
      case "shipyard-postgres-image":
        return { stdout: `${IMAGE_ID}\n` };
      case "shipyard-space":
        return {
          stdout:
            `${this.dockerRoot?.path ?? "/elsewhere/docker"}\nMounted on     Avail\n` +
            `${this.directoryFree.mount} ${this.directoryFree.free}\n` +
            (this.dockerRoot ? `${this.dockerRoot.mount} ${this.dockerRoot.free}\n` : ""),
        };
      case "shipyard-dump":
        this.files.set(first, Buffer.from(this.dumpText));
        return { stderr: this.dumpReport };
      case "shipyard-receive":
        this.files.set(first, c.stdinFile ? readFileSync(c.stdinFile) : Buffer.from(c.stdin ?? ""));
        return {};
      case "shipyard-from-file":
        if (!this.files.has(first)) return { exitCode: 1, stderr: `sh: cannot open ${first}: No such file` };
        return rest.includes("--list")
          ? { stdout: ";\n; Archive created at 2026-11-23\n;     dbname: shop\n" }
          : {};
      case "shipyard-ready":
        return {};
      case "shipyard-remove-throwaway":
        this.containers.delete(first);
        return {};
      case "shipyard-file-facts": {
        const content = this.files.get(first);
        if (!content) return { exitCode: 1, stderr: `stat: cannot stat '${first}'` };
        const sum = createHash("sha256").update(content).digest("hex");
        return { stdout: `${content.length}\n${sum}  ${first}\n` };
      }
      case "shipyard-catalog":
        if (c.stdin === undefined) return { stdout: this.files.get(first)?.toString("utf8") ?? "" };
        this.files.set(first, Buffer.from(c.stdin));
        return {};
      case "shipyard-textfile":
        this.files.set(first, Buffer.from(c.stdin ?? ""));
        return {};
      case "shipyard-catalog-lock":
        if (this.directories.has(first)) return { exitCode: CATALOG_LOCK_HELD };
        this.directories.add(first);
        return {};
      default:
        return undefined;
    }
  }
}
