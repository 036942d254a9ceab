#!/bin/sh
# The deploy CLI for the `local` environment when it is driven from a container (the Dagger deployer,
# which has the host's Docker socket): loads the deployer image into the host's engine, tags it, and runs
# the given command (a `docker run` of that tag), so the CLI sees the host's network (127.0.0.1) and the
# checkout at its host path: compose bind mounts, nginx's conf.d, the lock, the ledger and the backups are
# the host's own. The image stays tagged on the host, so the next load only adds the layers that changed.
#
# usage: run-on-host.sh TARBALL TAG [--stdin FILE] COMMAND [ARG...]
set -u
if [ $# -lt 3 ]; then
  echo "usage: run-on-host.sh TARBALL TAG [--stdin FILE] COMMAND [ARG...]" >&2
  exit 64
fi
tarball=$1
tag=$2
shift 2
input=/dev/null
if [ "$1" = --stdin ]; then
  input=$2
  shift 2
fi
loaded=$(docker load --input "$tarball") || exit 70
# An untagged OCI archive loads as "Loaded image ID: sha256:…", a tagged one as "Loaded image: name:tag".
image=$(printf '%s\n' "$loaded" | sed -n -e 's/^Loaded image ID: //p' -e 's/^Loaded image: //p' | tail -n 1)
if [ -z "$image" ]; then
  echo "run-on-host: docker load named no image: $loaded" >&2
  exit 70
fi
docker tag "$image" "$tag" || exit 70
exec "$@" <"$input"
