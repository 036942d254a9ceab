import { describe, expect, it } from "vitest";
import { explainS3Error, s3Credentials, uploadLocation } from "../../src/backup/offsite.js";
import { parseEnvironments } from "../../src/config/environments.js";
import { localEntry, uncheckedEnvironmentsYaml } from "../support/environment.js";

const target = (url: string) => ({ url, region: "us-east-1", pathStyle: false });
const entry = { id: "prod-20261123t140000z-abc123", file: "prod-20261123t140000z-abc123.dump.age" };

describe("where a backup goes off-site", () => {
  it("puts the file and its <id>.json manifest under the prefix, whether or not it ends in a slash", () => {
    for (const url of ["s3://acme-backups/shop/prod", "s3://acme-backups/shop/prod/"]) {
      expect(uploadLocation(target(url), entry)).toEqual({
        bucket: "acme-backups",
        key: `shop/prod/${entry.file}`,
        manifestKey: `shop/prod/${entry.id}.json`,
        url: `s3://acme-backups/shop/prod/${entry.file}`,
      });
    }
    expect(uploadLocation(target("s3://acme-backups"), entry).key).toBe(entry.file);
  });

  it("the environments file rejects a URL that is not s3://BUCKET[/PREFIX], naming the field", () => {
    const file = (url: string) =>
      uncheckedEnvironmentsYaml({
        prod: localEntry(".", {
          stateDirectory: "state",
          backup: { directory: "b", retention: { daily: 3, weekly: 1 }, upload: { url } },
        }),
      });
    expect(() => parseEnvironments(file("https://acme-backups.s3.amazonaws.com/x"), "envs.yaml")).toThrow(
      /environments\.prod\.backup\.upload\.url: expected s3:\/\/BUCKET or s3:\/\/BUCKET\/PREFIX\//,
    );
    const parsed = parseEnvironments(file("s3://acme-backups/prod/"), "envs.yaml");
    expect(parsed.environments.prod?.backup.upload).toEqual({
      url: "s3://acme-backups/prod/",
      region: "us-east-1",
      pathStyle: false,
    });
  });
});

describe("the store's credentials", () => {
  it("come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and a missing one is named", () => {
    expect(s3Credentials({ AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" })).toEqual({
      accessKeyId: "k",
      secretAccessKey: "s",
    });
    expect(
      s3Credentials({ AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" })
        .sessionToken,
    ).toBe("t");
    expect(() => s3Credentials({ AWS_ACCESS_KEY_ID: "k" })).toThrow(/^AWS_SECRET_ACCESS_KEY is not set/);
    expect(() => s3Credentials({})).toThrow(/^AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
  });
});

describe("explaining a store's refusal", () => {
  it("adds what to do for the errors people meet, and keeps the store's own words", () => {
    const refused = Object.assign(new Error("The AWS Access Key Id you provided does not exist"), {
      name: "InvalidAccessKeyId",
      $metadata: { httpStatusCode: 403 },
    });
    expect(explainS3Error(refused)).toBe(
      "InvalidAccessKeyId (HTTP 403): The AWS Access Key Id you provided does not exist — check AWS_ACCESS_KEY_ID",
    );
    const down = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9000"), { code: "ECONNREFUSED" });
    expect(explainS3Error(down)).toBe(
      "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9000 — nothing answers at backup.upload.endpoint",
    );
    expect(explainS3Error(Object.assign(new Error("slow down"), { name: "SlowDown" }))).toBe(
      "SlowDown: slow down",
    );
  });
});
