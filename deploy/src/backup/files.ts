import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BackupRefused } from "./facts.js";

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Copies `from` to `to` (replacing it), counting each chunk on the way: the copy's progress, read once. */
export async function copyCounted(from: string, to: string, count: (bytes: number) => void): Promise<void> {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      count(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from), counter, createWriteStream(to, { mode: 0o600 }));
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** The first bytes of every pg_dump custom-format archive. */
const CUSTOM_FORMAT_MAGIC = "PGDMP";

/** A file given to restore --file must be a dump, and readable: refused here before anything is copied. */
export async function checkArchive(file: string): Promise<void> {
  const handle = await open(file, "r").catch((error: NodeJS.ErrnoException) => {
    throw new BackupRefused(`cannot read ${file} (${error.code}): pass the path of a dump file`);
  });
  try {
    const magic = Buffer.alloc(CUSTOM_FORMAT_MAGIC.length);
    const { buffer } = await handle.read(magic, 0, magic.length, 0);
    if (buffer.toString("latin1") !== CUSTOM_FORMAT_MAGIC)
      throw new BackupRefused(
        `${file} is not a pg_dump custom-format archive (an age-encrypted backup must be decrypted first)`,
      );
  } finally {
    await handle.close();
  }
}
