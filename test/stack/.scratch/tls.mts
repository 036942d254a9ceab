import { execa } from "execa";
import { startHostNginx } from "/work/main/test/stack/support/nginx-host.ts";

const n = await startHostNginx("127.0.0.1:1");
for (const f of ["-tls1_2", "-tls1_3", "-tls1_1"]) {
  const r = await execa(
    "openssl",
    [
      "s_client",
      "-connect",
      `127.0.0.1:${n.layout.httpsPort}`,
      "-servername",
      "localhost",
      f,
      "-cipher",
      "DEFAULT:@SECLEVEL=0",
      "-alpn",
      "h2,http/1.1",
    ],
    { input: "", reject: false, all: true },
  );
  console.log(
    f,
    r.exitCode,
    r.all
      ?.split("\n")
      .filter((l) => /Protocol|ALPN|alert|error|Cipher|New,/.test(l))
      .join("\n"),
  );
}
await n.stop();
