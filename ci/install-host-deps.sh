#!/usr/bin/env bash
# Installs what the tests need on a Debian/Ubuntu machine (a laptop, a CI runner, a fresh VM):
# the real servers the tests run against, a Docker engine with compose, Debian's Python packages for the
# FastAPI example, and the npm dependencies.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# package:command-that-proves-it-is-there
REQUIRED=(
  "postgresql:/usr/lib/postgresql"
  "redis-server:redis-server"
  "nginx:nginx"
  "openssl:openssl"
  "util-linux:setpriv"
  "iproute2:ip"
  "procps:ps"
  "docker.io:dockerd"
  "docker-compose:docker-compose"
  "debootstrap:debootstrap"
  "wrk:wrk"
  "openssh-server:sshd"
  "openssh-client:ssh"
  "age:age"
  "docker-registry:docker-registry"
  # promtool: the alert-rule tests and the metric-name check (test/harness/promtool.ts).
  "prometheus:promtool"
  # The FastAPI example's pytest suite (test/integration/fastapi-example.test.ts) runs on Debian's Python
  # packages, for /usr/bin/python3; its Dockerfile installs the same ones with PYTHON_DEPS=debian.
  "python3-fastapi:/usr/lib/python3/dist-packages/fastapi"
  "python3-uvicorn:/usr/lib/python3/dist-packages/uvicorn"
  "python3-psycopg:/usr/lib/python3/dist-packages/psycopg"
  "python3-redis:/usr/lib/python3/dist-packages/redis"
  "python3-alembic:/usr/lib/python3/dist-packages/alembic"
  "python3-sqlalchemy:/usr/lib/python3/dist-packages/sqlalchemy"
  "python3-prometheus-client:/usr/lib/python3/dist-packages/prometheus_client"
  "python3-pytest:/usr/lib/python3/dist-packages/pytest"
  "python3-httpx:/usr/lib/python3/dist-packages/httpx"
)

missing=()
for entry in "${REQUIRED[@]}"; do
  pkg=${entry%%:*} probe=${entry#*:}
  if [[ $probe == /* ]]; then [[ -e $probe ]] || missing+=("$pkg"); else command -v "$probe" >/dev/null || [[ -x /usr/sbin/$probe ]] || missing+=("$pkg"); fi
done

if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  # Packages must not start their services: the tests start their own servers on free ports.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "Node.js >= 20 is required (found $(node --version))." >&2
  exit 1
fi

npm ci --no-audit --no-fund
if [[ -f dagger/package-lock.json ]]; then npm ci --no-audit --no-fund --prefix dagger; fi
