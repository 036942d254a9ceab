#!/usr/bin/env bash
# Writes a self-signed certificate for local use and tests (never for a public host: use Let's
# Encrypt there, see nginx/README.md).
#   nginx/generate-self-signed-cert.sh DIR [HOSTNAME|IPv4...]  (default hostname: localhost)
# Creates DIR/fullchain.pem and DIR/privkey.pem, the names nginx/snippets/tls.conf loads. Run as root,
# the key is mode 0600 and owned by CERT_OWNER (default 101:101, the nginx user of the official image).
set -euo pipefail

dir="${1:?usage: $0 DIR [HOSTNAME...]}"
shift
if [ "$#" -eq 0 ]; then set -- localhost; fi

# A name that is an IPv4 address goes in as one (a server reached by its address).
san="IP:127.0.0.1"
for name in "$@"; do
  if [[ "$name" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]; then san="IP:${name},${san}"; else san="DNS:${name},${san}"; fi
done

mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=$1" -addext "subjectAltName=${san}" \
  -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
chmod 644 "$dir/fullchain.pem"
chmod 600 "$dir/privkey.pem"
if [ "$(id -u)" = 0 ]; then
  chown "${CERT_OWNER:-101:101}" "$dir/privkey.pem"
else
  # Without root the key cannot be given to uid 101, and nginx in the container must read it. A
  # throw-away local key may be world-readable; a real host uses Let's Encrypt (see nginx/README.md).
  chmod 644 "$dir/privkey.pem"
  echo "note: not root, so $dir/privkey.pem is made readable by all (fine for a local, self-signed key only)" >&2
fi
echo "wrote $dir/fullchain.pem and $dir/privkey.pem for: $*"
