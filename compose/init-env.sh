#!/usr/bin/env bash
# Writes compose/.env from compose/.env.example with fresh random secrets, readable by its owner only.
#   compose/init-env.sh [--dev] [TARGET]      (default TARGET: compose/.env; never overwrites)
# --dev binds nginx to 127.0.0.1:8080/8443 and uses the locally built app image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

dev=false
if [[ ${1:-} == --dev ]]; then dev=true; shift; fi
target="${1:-$here/.env}"
if [[ -e $target ]]; then
  echo "$target already exists; not overwriting it (delete it first to start over)" >&2
  exit 1
fi

secret() { openssl rand -hex 24; }

umask 077
{
  while IFS= read -r line; do
    case "$line" in
      # printf is a shell builtin: the secrets never appear in a process's argv.
      POSTGRES_PASSWORD= | REDIS_PASSWORD= | ADMIN_TOKEN= | GRAFANA_ADMIN_PASSWORD=) printf '%s%s\n' "$line" "$(secret)" ;;
      BIND_ADDRESS=*) if $dev; then echo "BIND_ADDRESS=127.0.0.1"; else echo "$line"; fi ;;
      HTTP_PORT=*) if $dev; then echo "HTTP_PORT=8080"; else echo "$line"; fi ;;
      HTTPS_PORT=*) if $dev; then echo "HTTPS_PORT=8443"; else echo "$line"; fi ;;
      APP_IMAGE=*) if $dev; then echo "APP_IMAGE=shipyard-app:dev"; else echo "$line"; fi ;;
      *) echo "$line" ;;
    esac
  done <"$here/.env.example"
} >"$target"
chmod 600 "$target"
echo "wrote $target (mode 0600); keep it out of git and backups you do not control"
