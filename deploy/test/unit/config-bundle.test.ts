import { describe, expect, it } from "vitest";
import {
  addedFiles,
  configBase,
  configBundle,
  UPSTREAM_FILE,
  unpackBundle,
} from "../../src/commands/config.js";
import { rollbackSteps } from "../../src/release/release.js";
import { localEnvironment } from "../support/environment.js";
import { releaseRecord } from "../support/release-record.js";

describe("the configuration a deploy ships", () => {
  it("is what compose.yaml mounts, and never the host's secrets, its backup-time files or the development override", () => {
    const files = [
      "compose/.env",
      "compose/.env.example",
      "compose/certs/privkey.pem",
      "compose/compose.dev.yaml",
      "compose/compose.yaml",
      "compose/init-env.sh",
      "compose/monitoring/prometheus.yml",
      "compose/monitoring/textfile/README.md",
      "compose/monitoring/textfile/shipyard_backup_local.prom",
      "compose/monitoring/textfile/shipyard_backup_local.prom.123.tmp",
      "nginx/README.md",
      "nginx/conf.d/shipyard.conf",
      "nginx/conf.d/upstream.conf",
      "nginx/ffdhe2048.pem",
      "nginx/generate-self-signed-cert.sh",
      "nginx/html/errors/5xx.json",
      "nginx/nginx.conf",
      "nginx/snippets/tls.conf",
    ];
    expect(configBundle(files)).toEqual([
      "compose/compose.yaml",
      "compose/monitoring/prometheus.yml",
      "compose/monitoring/textfile/README.md",
      "nginx/conf.d/shipyard.conf",
      "nginx/conf.d/upstream.conf",
      "nginx/ffdhe2048.pem",
      "nginx/html/errors/5xx.json",
      "nginx/nginx.conf",
      "nginx/snippets/tls.conf",
    ]);
  });

  it("goes beside the compose directory, writes in place, and leaves the live upstream alone", () => {
    const env = localEnvironment("/tmp/x", {
      compose: {
        project: "shop",
        directory: "/srv/shop/compose",
        cli: "docker compose",
        appService: "app",
        nginxService: "nginx",
        nginxConfDirectory: "/srv/shop/nginx/conf.d",
      },
    });
    expect(configBase(env)).toBe("/srv/shop");
    expect(unpackBundle("/srv/shop", "/tmp/b.tar").argv).toEqual([
      "tar",
      "--extract",
      "--file",
      "-",
      "--directory",
      "/srv/shop",
      "--overwrite",
      "--no-same-owner",
      `--exclude=${UPSTREAM_FILE}`,
    ]);
    // A rollback never removes the upstream, even on a first deploy that seeded it.
    expect(
      addedFiles(["nginx/nginx.conf", UPSTREAM_FILE, "nginx/conf.d/new.conf"], "nginx/nginx.conf\n"),
    ).toEqual(["nginx/conf.d/new.conf"]);
  });

  it("a rollback restores the old configuration before nginx reloads with the old upstream", () => {
    const env = localEnvironment("/tmp/x");
    const steps = rollbackSteps(
      env,
      {
        switched: true,
        nginx: null,
        migrated: false,
        previousUpstream: "upstream app {}",
        fresh: null,
        config: {
          base: "/srv/shop",
          snapshot: "/srv/state/config-before-r2.tar",
          added: ["nginx/conf.d/new.conf"],
        },
      },
      releaseRecord({ release: "r2" }),
    );
    expect(steps.map((s) => s.name)).toEqual([
      "restore config",
      "remove added config",
      "restore upstream",
      "nginx -t",
      "reload nginx",
      "ledger",
    ]);
    expect(steps[1]?.command?.argv).toEqual(["rm", "-f", "--", "/srv/shop/nginx/conf.d/new.conf"]);
  });
});
