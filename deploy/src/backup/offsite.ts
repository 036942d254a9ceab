/**
 * The off-site copy of a verified backup in S3 or any S3-compatible store: the stored file, then a
 * manifest (its catalog entry, so another machine knows what the dump must restore to), then a read-back
 * of the object's size and recorded checksum. Only a copy that reads back right is recorded as off-site.
 */
import { createReadStream } from "node:fs";
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { UploadTarget } from "../config/environments.js";
import type { BackupEntry } from "./catalog.js";

export interface UploadLocation {
  bucket: string;
  /** The backup file's key. */
  key: string;
  /** `<id>.json` beside it: the catalog entry. */
  manifestKey: string;
  /** s3://bucket/key, as the catalog records it. */
  url: string;
}

export function uploadLocation(
  target: UploadTarget,
  entry: Pick<BackupEntry, "id" | "file">,
): UploadLocation {
  const rest = target.url.slice("s3://".length);
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  let prefix = slash === -1 ? "" : rest.slice(slash + 1);
  if (prefix && !prefix.endsWith("/")) prefix += "/";
  const key = `${prefix}${entry.file}`;
  return { bucket, key, manifestKey: `${prefix}${entry.id}.json`, url: `s3://${bucket}/${key}` };
}

export class UploadFailed extends Error {
  override name = "UploadFailed";
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Read from the run-time environment only, by the names every S3 tool uses. Deliberately not the SDK's
 * whole default chain: that would also try instance metadata and ~/.aws, and a missing variable should be
 * named, not turn into a slow request to a metadata endpoint.
 */
export function s3Credentials(env: NodeJS.ProcessEnv): S3Credentials {
  const missing = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].filter((name) => !env[name]);
  if (missing.length > 0)
    throw new UploadFailed(
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set: backup.upload needs the store's access key in the environment`,
    );
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID as string,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/** What to do about the errors people actually meet, by the S3 error code (or Node's network code). */
export function explainS3Error(error: unknown): string {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e.name && e.name !== "Error" ? e.name : (e.code ?? "Error");
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
  const hint: Record<string, string> = {
    NoSuchBucket: "create the bucket, or fix the bucket in backup.upload.url",
    InvalidAccessKeyId: "check AWS_ACCESS_KEY_ID",
    SignatureDoesNotMatch: "check AWS_SECRET_ACCESS_KEY (and backup.upload.region)",
    AccessDenied: "the key may not write to this bucket and prefix",
    ECONNREFUSED: "nothing answers at backup.upload.endpoint",
    ENOTFOUND: "the host of backup.upload.endpoint does not resolve",
  };
  const fix = hint[name] ?? (e.code ? hint[e.code] : undefined);
  return `${name}${status}: ${e.message ?? String(error)}${fix ? ` — ${fix}` : ""}`;
}

export function s3Client(target: UploadTarget, credentials: S3Credentials): S3Client {
  return new S3Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    forcePathStyle: target.pathStyle,
    credentials,
    maxAttempts: 3,
    // The SDK's default adds CRC32 trailers to every upload, which several S3-compatible stores reject;
    // checksums only where the API requires them is what works everywhere. Our own check is the read-back.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
}

export interface Offsite {
  url: string;
  uploadedAt: string;
}

/**
 * Uploads `file` (the stored backup `entry` describes) and its manifest; resolves once both read back right.
 * `sent`: the bytes of the file sent so far, as the upload reports them.
 */
export async function uploadBackup(
  target: UploadTarget,
  env: NodeJS.ProcessEnv,
  file: string,
  entry: BackupEntry,
  now: () => Date = () => new Date(),
  sent: (bytes: number) => void = () => {},
): Promise<Offsite> {
  const where = uploadLocation(target, entry);
  const client = s3Client(target, s3Credentials(env));
  try {
    // Multipart for large files, in parts, so a dump never has to fit in memory.
    const upload = new Upload({
      client,
      params: {
        Bucket: where.bucket,
        Key: where.key,
        Body: createReadStream(file),
        ContentType: "application/octet-stream",
        Metadata: { sha256: entry.sha256, "backup-id": entry.id },
      },
    });
    upload.on("httpUploadProgress", (p) => {
      if (p.loaded !== undefined) sent(p.loaded);
    });
    await upload.done();
    const stored = await client.send(new HeadObjectCommand({ Bucket: where.bucket, Key: where.key }));
    if (stored.ContentLength !== entry.sizeBytes || stored.Metadata?.sha256 !== entry.sha256)
      throw new UploadFailed(
        `${where.url} reads back as ${stored.ContentLength} bytes with sha256 ${stored.Metadata?.sha256 ?? "(none)"}, ` +
          `not ${entry.sizeBytes} bytes with ${entry.sha256}`,
      );
    const offsite = { url: where.url, uploadedAt: now().toISOString() };
    await client.send(
      new PutObjectCommand({
        Bucket: where.bucket,
        Key: where.manifestKey,
        Body: `${JSON.stringify({ ...entry, offsite }, null, 2)}\n`,
        ContentType: "application/json",
      }),
    );
    return offsite;
  } catch (error) {
    if (error instanceof UploadFailed) throw error;
    throw new UploadFailed(
      `upload of ${entry.id} to ${where.url}${target.endpoint ? ` at ${target.endpoint}` : ""} failed: ${explainS3Error(error)}`,
    );
  } finally {
    client.destroy();
  }
}
