import { execa } from "execa";

/** How to invoke Compose: `docker compose …` (v2 plugin) or `docker-compose …` (v1, the one Debian packages). */
export interface ComposeCli {
  readonly file: string;
  readonly leadingArgs: readonly string[];
  readonly version: "v2" | "v1";
}

export interface InstalledCompose {
  readonly plugin: boolean;
  readonly standalone: boolean;
}

const V2: ComposeCli = { file: "docker", leadingArgs: ["compose"], version: "v2" };
const V1: ComposeCli = { file: "docker-compose", leadingArgs: [], version: "v1" };

/**
 * Picks the Compose CLI. v2 wins when both are installed because v1 is end-of-life; `preferred`
 * (from STACK_COMPOSE=v1|v2) lets a machine with both run the suite against the other one.
 */
export function chooseComposeCli(installed: InstalledCompose, preferred?: string): ComposeCli {
  if (preferred !== undefined && preferred !== "" && preferred !== "v1" && preferred !== "v2") {
    throw new Error(`STACK_COMPOSE must be "v1" or "v2", got "${preferred}"`);
  }
  if (preferred === "v1" && !installed.standalone) {
    throw new Error(
      "STACK_COMPOSE=v1 but docker-compose is not installed: apt-get install -y docker-compose",
    );
  }
  if (preferred === "v2" && !installed.plugin) {
    throw new Error("STACK_COMPOSE=v2 but the `docker compose` plugin is not installed");
  }
  if (preferred === "v1") return V1;
  if (installed.plugin) return V2;
  if (installed.standalone) return V1;
  throw new Error(
    "No Docker Compose found: install the `docker compose` plugin or `apt-get install -y docker-compose`",
  );
}

async function succeeds(file: string, args: string[]): Promise<boolean> {
  const result = await execa(file, args, { reject: false, timeout: 30_000 });
  return result.exitCode === 0;
}

export async function detectComposeCli(): Promise<ComposeCli> {
  const [plugin, standalone] = await Promise.all([
    succeeds("docker", ["compose", "version"]),
    succeeds("docker-compose", ["version"]),
  ]);
  return chooseComposeCli({ plugin, standalone }, process.env.STACK_COMPOSE);
}
