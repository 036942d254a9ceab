/**
 * A stand-in `docker` for tests that run the CLI for real without an engine: put `bin` first on PATH. It
 * answers the version checks, checks `compose config` the way compose would (every secret compose.yaml
 * requires is set in compose/.env), and runs a `docker run … --entrypoint sh IMAGE -c SCRIPT …` on this
 * machine with the volume's directory for the container's path (openssl is this machine's). `compose logs`
 * prints three JSON lines (then, with --follow, one every 0.2 s until its output is closed, its pid in
 * `followPid`); `compose exec [-T] SERVICE CMD…` runs CMD here, and without -T refuses a stdin or stdout that
 * is no terminal, as compose does. Every call's argv is logged, one per line. A stand-in `ln` records `ps` at the moment a file is linked into place,
 * i.e. while the command writing it runs: what any user of the host could see of it.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { STACK_SECRETS } from "../../src/setup/stack-env.js";

export interface FakeDocker {
  bin: string;
  /** Every docker call's argv, one a line (arguments joined by spaces). */
  log: string;
  /** `ps -eo args` taken whenever `ln` ran. */
  psLog: string;
  /** The pid of the last `compose logs --follow`, written as it starts following. */
  followPid: string;
  /** PATH with `bin` first. */
  path: string;
}

const DOCKER = (log: string, followPid: string) => `#!/bin/sh
printf '%s\\n' "$*" >> '${log}'
case "$1" in
  version) echo 27.3.1; exit 0 ;;
  compose)
    while [ "$1" != "--project-directory" ]; do shift; done
    dir=$2; shift 2
    case "$1" in
      version) echo "Docker Compose version v2.29.7"; exit 0 ;;
      config)
        for name in ${STACK_SECRETS.join(" ")}; do
          grep -q "^$name=..*" "$dir/.env" 2>/dev/null || { echo "required variable $name is missing a value" >&2; exit 1; }
        done
        exit 0 ;;
      logs)
        for i in 1 2 3; do echo '{"level":"info","msg":"line '$i'"}'; done
        case " $* " in *" --follow "*)
          echo $$ > '${followPid}'
          while :; do echo '{"level":"info","msg":"tick"}'; sleep 0.2; done ;;
        esac
        exit 0 ;;
      exec)
        shift
        if [ "$1" = -T ]; then shift
        elif [ ! -t 0 ] || [ ! -t 1 ]; then echo "the input device is not a TTY" >&2; exit 1
        fi
        shift
        exec "$@" ;;
    esac ;;
  run)
    shift
    while [ "$1" != "--entrypoint" ]; do
      if [ "$1" = --volume ]; then volume=$2; shift; fi
      shift
    done
    shift 3
    shift
    script=$1; shift
    # The container's /certs is the volume's directory here.
    exec sh -c "$(printf '%s' "$script" | sed "s#^cd /certs\\$#cd '\${volume%:/certs}'#")" "$@" ;;
esac
echo "fake docker: unexpected call: $*" >&2
exit 1
`;

const LN = (psLog: string, realLn: string) => `#!/bin/sh
ps -eo args >> '${psLog}'
exec '${realLn}' "$@"
`;

export async function fakeDocker(dir: string): Promise<FakeDocker> {
  const bin = path.join(dir, "bin");
  await mkdir(bin, { recursive: true });
  const log = path.join(dir, "docker.log");
  const psLog = path.join(dir, "ps.log");
  const followPid = path.join(dir, "follow.pid");
  const realLn = (await execa("sh", ["-c", "command -v ln"])).stdout.trim();
  await writeFile(path.join(bin, "docker"), DOCKER(log, followPid));
  await writeFile(path.join(bin, "ln"), LN(psLog, realLn));
  await chmod(path.join(bin, "docker"), 0o755);
  await chmod(path.join(bin, "ln"), 0o755);
  return { bin, log, psLog, followPid, path: `${bin}:${process.env.PATH}` };
}
