/**
 * A temporary self-signed certificate for a fresh host, as data: what nginx/generate-self-signed-cert.sh
 * makes (fullchain.pem, privkey.pem: the names nginx/snippets/tls.conf loads), made by openssl in a
 * throw-away container of the stack's nginx image rather than on the host. The image is one the stack pulls
 * anyway and has openssl (Debian's ca-certificates needs it); the host may have none, or an old one. And the
 * container runs as root, so the key can be given to nginx's uid and kept 0600: the SSH user cannot chown.
 */
import type { Command } from "./argv.js";

/** The uid:gid of the nginx user in the official image, which the key must belong to (nginx reads it). */
export const NGINX_IMAGE_USER = "101:101";

/** Days the temporary certificate is valid: long enough to set up Let's Encrypt (nginx/README.md). */
export const TEMPORARY_CERTIFICATE_DAYS = 30;

// In the container: never over a certificate that is there; written under other names and renamed, so a
// failure leaves no half of one behind (the next run would take it for a certificate).
const MAKE = `set -e
cd /certs
if [ -e fullchain.pem ] || [ -e privkey.pem ]; then echo "a certificate is there already: left as it is" >&2; exit 1; fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$3" \\
  -subj "/CN=$1" -addext "subjectAltName=$2" -keyout .privkey.pem.new -out .fullchain.pem.new
chmod 644 .fullchain.pem.new
chmod 600 .privkey.pem.new
chown "$4" .privkey.pem.new
mv -- .fullchain.pem.new fullchain.pem
mv -- .privkey.pem.new privkey.pem`;

// On the host: the directory made and named absolutely (docker takes a relative source for a volume name).
const RUN = `set -e
mkdir -p -- "$1"
dir=$(cd -- "$1" && pwd -P)
image=$2 script=$3
shift 3
exec docker run --rm --network none --user 0:0 --volume "$dir:/certs" --entrypoint sh "$image" -c "$script" shipyard-certificate "$@"`;

/** The subjectAltName for `hostname`: an address as IP:, a name as DNS:, plus the loopback address. */
export function subjectAltName(hostname: string): string {
  const address = /^[0-9.]+$/.test(hostname) || hostname.includes(":");
  const own = `${address ? "IP" : "DNS"}:${hostname.replace(/^\[|\]$/g, "")}`;
  return own === "IP:127.0.0.1" ? own : `${own},IP:127.0.0.1`;
}

/** Makes `directory`/fullchain.pem and privkey.pem for `hostname` with openssl in `image`. */
export function selfSignedCertificate(directory: string, image: string, hostname: string): Command {
  return {
    argv: [
      "sh",
      "-c",
      RUN,
      "shipyard-certificate",
      directory,
      image,
      MAKE,
      hostname,
      subjectAltName(hostname),
      String(TEMPORARY_CERTIFICATE_DAYS),
      NGINX_IMAGE_USER,
    ],
  };
}
