import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import type { ComposeCli } from "./compose-cli.js";

export interface ProjectSpec {
  readonly name: string;
  readonly files: readonly string[];
  readonly envFile: string;
  readonly profiles?: readonly string[];
}

/** The argv for one Compose command on a project; the same for v1 and v2 (flags both understand). */
export function composeArgv(
  cli: ComposeCli,
  project: ProjectSpec,
  command: readonly string[],
): [string, string[]] {
  const args = [...cli.leadingArgs, "--project-name", project.name, "--env-file", project.envFile];
  for (const file of project.files) args.push("--file", file);
  for (const profile of project.profiles ?? []) args.push("--profile", profile);
  return [cli.file, [...args, ...command]];
}

export interface ServiceState {
  readonly service: string;
  readonly containerId: string;
  readonly running: boolean;
  readonly exitCode: number;
  /** "healthy" | "unhealthy" | "starting", or "none" when the container has no healthcheck. */
  readonly health: string;
}

/** Whether a stack is up: every long-running service healthy, every one-shot service exited 0. */
export function stackReady(states: readonly ServiceState[], oneShots: readonly string[]): boolean {
  return (
    states.length > 0 &&
    states.every((state) =>
      oneShots.includes(state.service) ? !state.running && state.exitCode === 0 : state.health === "healthy",
    )
  );
}

/** A Compose project driven through the real CLI. */
export class ComposeProject {
  constructor(
    readonly cli: ComposeCli,
    readonly spec: ProjectSpec,
    private readonly cwd: string,
  ) {}

  async run(command: readonly string[], options: { input?: string } = {}) {
    const [file, args] = composeArgv(this.cli, this.spec, command);
    return execa(file, args, {
      cwd: this.cwd,
      all: true,
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  }

  async services(): Promise<string[]> {
    const { stdout } = await this.run(["config", "--services"]);
    return stdout.split("\n").filter((line) => line !== "");
  }

  async containerId(service: string): Promise<string> {
    const { stdout } = await this.run(["ps", "-a", "-q", service]);
    const id = stdout.trim().split("\n")[0] ?? "";
    if (id === "") throw new Error(`service ${service} has no container`);
    return id;
  }

  async states(services: readonly string[]): Promise<ServiceState[]> {
    const states: ServiceState[] = [];
    for (const service of services) {
      const containerId = await this.containerId(service);
      const { stdout } = await execa("docker", [
        "inspect",
        "--format",
        "{{.State.Running}} {{.State.ExitCode}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
        containerId,
      ]);
      const [running, exitCode, health] = stdout.trim().split(" ");
      states.push({
        service,
        containerId,
        running: running === "true",
        exitCode: Number(exitCode),
        health: health ?? "none",
      });
    }
    return states;
  }

  /** Waits until every service is healthy (one-shots: exited 0); bounded, and fails with the logs. */
  async waitReady(
    services: readonly string[],
    oneShots: readonly string[],
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: ServiceState[] = [];
    while (Date.now() < deadline) {
      last = await this.states(services).catch(() => []);
      if (stackReady(last, oneShots)) return;
      const failedOneShot = last.find((s) => oneShots.includes(s.service) && !s.running && s.exitCode !== 0);
      if (failedOneShot) break;
      await sleep(1_000);
    }
    const logs = await this.run(["logs", "--no-color", "--tail", "40"]).catch((error: unknown) =>
      String(error),
    );
    throw new Error(
      `stack not ready after ${timeoutMs} ms: ${JSON.stringify(last)}\n${typeof logs === "string" ? logs : logs.all}`,
    );
  }

  /** Removes containers, networks and (unless keepVolumes) volumes; never throws, so teardown goes on. */
  async down(options: { keepVolumes?: boolean } = {}): Promise<void> {
    const args = ["down", "--remove-orphans", "--timeout", "20"];
    if (!options.keepVolumes) args.push("--volumes");
    await this.run(args).catch((error: unknown) => console.error(`compose down failed: ${String(error)}`));
  }
}
