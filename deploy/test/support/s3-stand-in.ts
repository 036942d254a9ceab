/**
 * STAND-IN for S3-compatible storage: no S3 store is packaged for Debian, so the off-site tests upload
 * to s3rver (an S3 API server in Node, storing on disk) on 127.0.0.1. It checks SigV4 signatures with its
 * one key pair, so a wrong secret is refused as a real store refuses it.
 */
import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import S3rver from "@20minutes/s3rver";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { makeScratchDir } from "../../../test/harness/scratch-dir.js";

export interface S3StandIn {
  endpoint: string;
  /** The credentials it accepts, as the environment passes them. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  /** An object's bytes, read back through the S3 API. */
  get(bucket: string, key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

export async function startS3StandIn(buckets: string[]): Promise<S3StandIn> {
  const directory = await makeScratchDir("s3");
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  return {
    endpoint,
    env,
    async get(bucket, key) {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
    },
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
