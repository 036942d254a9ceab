/**
 * The pieces of the one pass a verified backup makes (dump-and-restore.ts, tee.ts): which failure is named
 * when several parts fail, and a tee that hands every byte to each destination, with its checksum taken on
 * the way, and says which destination failed. The processes themselves are tested against a real Postgres
 * (integration/backup-restore.test.ts).
 */
import { createHash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { cause } from "../../src/backup/dump-and-restore.js";
import { Checksum, TeeFailed, tee } from "../../src/backup/tee.js";

const collector = (delayMs = 0) => {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _, done) {
      chunks.push(chunk);
      setTimeout(done, delayMs);
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
};

describe("which failure a dump and restore pass names", () => {
  const dump = new Error("pg_dump: connection lost");
  const restore = new Error("pg_restore: out of space");
  const stream = new Error("ENOSPC");

  it("the dump's own before the restore's: a cut-off archive fails the restore too", () => {
    expect(cause({ dump, restore, stream })).toEqual({ side: "dump", error: dump });
  });

  it("the restore's before the file's, and a restore that stopped reading when nothing else says more", () => {
    expect(cause({ restore, stream })).toEqual({ side: "restore", error: restore });
    expect(cause({ stream, restoreInput: new Error("EPIPE") })).toEqual({ side: "stream", error: stream });
    expect(cause({ restoreInput: new Error("write EPIPE") })).toMatchObject({
      side: "restore",
      error: { message: "pg_restore stopped reading before the dump ended: write EPIPE" },
    });
    expect(cause({})).toBeUndefined();
  });
});

describe("the tee a dump passes through", () => {
  it("hands every byte to each destination, the slower one setting the pace, and sums them on the way", async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`part ${i};`));
    const file = collector();
    const slow = collector(1);
    const checksum = new Checksum();
    await pipeline(Readable.from(parts), checksum, tee([file.stream, slow.stream]));
    const whole = Buffer.concat(parts);
    expect(file.text()).toBe(whole.toString());
    expect(slow.text()).toBe(whole.toString());
    expect(checksum.bytes).toBe(whole.length);
    expect(checksum.sha256()).toBe(createHash("sha256").update(whole).digest("hex"));
  });

  it("fails with the destination that failed, and stops the source", async () => {
    const file = collector();
    const dying = new Writable({
      write(_chunk, _, done) {
        done(new Error("write EPIPE"));
      },
    });
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.alloc(1024));
      },
    });
    const failed = pipeline(endless, tee([file.stream, dying])).catch((error: unknown) => error);
    const error = await failed;
    expect(error).toBeInstanceOf(TeeFailed);
    expect(error).toMatchObject({ destination: 1, message: "write EPIPE" });
    expect(endless.destroyed).toBe(true);
    // No more than the tee's own buffer (1 MB) was read ahead of the failure.
    expect(pulled * 1024).toBeLessThan(2 * 1024 * 1024);
  });
});
