#!/usr/bin/env bash
# What a test run may leave behind on this machine, listed so CI can compare before and after:
#   ci/leftovers.sh snapshot FILE        writes the list
#   ci/leftovers.sh compare BEFORE       lists what is new since BEFORE and exits 1 if anything is
# Processes (by pid and command), temporary files and directories under /tmp and /var/tmp, and the
# containers, networks and volumes of a Docker engine on the default socket when one answers. The
# stand-in images the tests build live in the tests' own engine, which is removed with everything in it.
set -euo pipefail

processes=$(mktemp)
trap 'rm -f "$processes"' EXIT

list() {
  # Every process but this script and its children, its parent, and kernel threads (kthreadd's children).
  # Given the snapshot taken before the run, only the new processes that are the run's: those whose
  # parents lead to the run (the script's parent) or to init through new processes only (a daemon a test
  # let escape). A process another session starts meanwhile, under a process that was already running,
  # is not the run's and is left out.
  ps -eo pid=,ppid=,comm= >"$processes"
  awk -v self=$$ -v parent=$PPID -v before="${1:-}" '
    BEGIN { if (before != "") while ((getline line < before) > 0) { split(line, f, " "); if (f[1] == "process") old[f[2]] = 1 } }
    { ppid[$1] = $2; comm[$1] = $3 }
    END {
      for (p in ppid) {
        if (p == self || ppid[p] == self || p == parent || p == 2 || ppid[p] == 2) continue
        if (before == "") { print "process " p " " comm[p]; continue }
        if (p in old) continue
        ours = 0
        for (q = ppid[p]; ; q = ppid[q]) {
          if (q == parent || q <= 1 || !(q in ppid)) { ours = 1; break }
          if (q in old) break
        }
        if (ours) print "process " p " " comm[p]
      }
    }' "$processes"
  for dir in /tmp /var/tmp; do
    find "$dir" -mindepth 1 -maxdepth 1 -printf "file %p\n" 2>/dev/null
  done
  if docker info >/dev/null 2>&1; then
    docker ps --all --format 'container {{.Names}}'
    docker network ls --format 'network {{.Name}}'
    docker volume ls --format 'volume {{.Name}}'
  fi
}

case "${1:-}" in
  # Not in a pipeline: a pipeline runs list in a subshell, whose ps would count as a new process.
  snapshot)
    list >"$2"
    sort -o "$2" "$2"
    ;;
  compare)
    now=$(mktemp)
    list "$2" >"$now"
    sort -o "$now" "$now"
    left=$(comm -13 "$2" "$now" | grep -v -x -e "file $now" -e "file $processes" || true)
    rm -f "$now"
    if [[ -n $left ]]; then
      echo "The tests left these behind:" >&2
      printf '  %s\n' "$left" >&2
      exit 1
    fi
    echo "Nothing left behind: no new process, temporary file, container, network or volume."
    ;;
  *)
    echo "usage: ci/leftovers.sh snapshot FILE | compare BEFORE" >&2
    exit 64
    ;;
esac
