/**
 * Whether the host's Docker and compose can run the stack, from what `docker version` and `compose version`
 * print. The floors: compose.yaml starts the app after migrate with `condition: service_completed_successfully`,
 * which compose v1 has from 1.29 (Debian bookworm's docker-compose) and v2 from its first release; the
 * engine must be 20.10 or newer, the oldest a maintained distribution ships (Debian bookworm's docker.io).
 */

type Version = [major: number, minor: number, patch: number];

export const MIN_ENGINE: Version = [20, 10, 0];
export const MIN_COMPOSE_V1: Version = [1, 29, 0];
export const MIN_COMPOSE_V2: Version = [2, 0, 0];

function parseVersion(text: string): Version | null {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

const atLeast = (version: Version, floor: Version) => {
  for (let i = 0; i < 3; i++)
    if (version[i] !== floor[i]) return (version[i] as number) > (floor[i] as number);
  return true;
};
const show = (v: Version) => v.join(".");

/** The engine's version, e.g. "27.3.1"; throws with what to do when it is too old or unreadable. */
export function checkEngineVersion(stdout: string): string {
  const text = stdout.trim();
  const version = parseVersion(text);
  if (!version) throw new Error(`cannot read the Docker engine's version from ${JSON.stringify(text)}`);
  if (!atLeast(version, MIN_ENGINE))
    throw new Error(
      `Docker engine ${text} is too old: the stack needs ${show(MIN_ENGINE)} or newer (see https://docs.docker.com/engine/install/)`,
    );
  return text;
}

/** Compose's version line, e.g. "Docker Compose version v2.29.7"; throws when too old or unreadable. */
export function checkComposeVersion(stdout: string): string {
  const line = stdout.trim().split("\n")[0] ?? "";
  const version = parseVersion(line);
  if (!version) throw new Error(`cannot read compose's version from ${JSON.stringify(line)}`);
  const floor = version[0] >= 2 ? MIN_COMPOSE_V2 : MIN_COMPOSE_V1;
  if (!atLeast(version, floor))
    throw new Error(
      `${line} is too old: compose.yaml needs docker-compose ${show(MIN_COMPOSE_V1)} or newer, or the compose v2 plugin`,
    );
  return line;
}
