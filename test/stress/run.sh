#!/usr/bin/env bash
# The SSH, stack and deploy end-to-end tests on a machine made slow on purpose: two CPU-burning workers
# (stress-ng) run beside them the whole time, so a test that needs a fast machine fails here first.
#   bash test/stress/run.sh            (after ci/install-host-deps.sh; installs stress-ng if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v stress-ng >/dev/null; then
  apt-get install -y -q --no-install-recommends stress-ng || { apt-get update -q && apt-get install -y -q --no-install-recommends stress-ng; }
fi

# Bounded: it stops by itself after two hours even if this script is killed outright.
stress-ng --cpu 2 --cpu-method matrixprod --timeout 7200s --quiet &
burner=$!
trap 'kill "$burner" 2>/dev/null; wait "$burner" 2>/dev/null || true' EXIT

started=$(date +%s)
npx vitest run --project integration \
  deploy/test/integration/ssh-runner.test.ts \
  deploy/test/integration/lock-ledger.test.ts \
  deploy/test/integration/cli.test.ts
npx vitest run --project docker
echo "Under load (stress-ng --cpu 2): passed in $(($(date +%s) - started)) s"
