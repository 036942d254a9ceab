/**
 * The stream pieces a dump passes through on its way to the file and to the scratch restore at once: a
 * checksum taken as the bytes go by (no second read of the file), and a tee that hands each chunk to every
 * destination and takes the next only when all have taken this one, so the slower one sets the pace and
 * nothing piles up in memory.
 */
import { createHash } from "node:crypto";
import { Transform, type TransformCallback, Writable } from "node:stream";

/** Passes bytes through unchanged; once they have all passed, their sha256 and count. */
export class Checksum extends Transform {
  private readonly hash = createHash("sha256");
  bytes = 0;

  override _transform(chunk: Buffer, _: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  /** Only after the stream has ended: the digest of everything that passed. */
  sha256(): string {
    return this.hash.digest("hex");
  }
}

/** A failure of one destination: the error it made, and which destination made it. */
export class TeeFailed extends Error {
  override name = "TeeFailed";
  constructor(
    readonly destination: number,
    readonly error: Error,
  ) {
    super(error.message, { cause: error });
  }
}

/**
 * Writes every chunk to each destination; ends them when it ends and finishes when they all have. The
 * first destination that fails fails the tee (a pipeline then stops its source); the others are left for
 * the caller to stop, since only it knows how (a process to end, a partial file to remove).
 */
export function tee(destinations: readonly Writable[]): Writable {
  let failure: TeeFailed | undefined;
  const settled = destinations.map(
    (stream, index) =>
      new Promise<void>((resolve, reject) => {
        stream.on("error", (error) => {
          failure ??= new TeeFailed(index, error);
          reject(failure);
        });
        stream.once("finish", resolve);
      }),
  );
  // Each is awaited where it matters; this only keeps an early failure from being an unhandled rejection.
  for (const s of settled) s.catch(() => undefined);
  const whenDrained = (stream: Writable, chunk: Buffer) =>
    new Promise<void>((resolve, reject) => {
      stream.write(chunk, (error) => (error ? reject(failure ?? error) : resolve()));
    });
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _, done) {
      if (failure) return done(failure);
      Promise.all(destinations.map((d) => whenDrained(d, chunk))).then(
        () => done(),
        (error: Error) => done(failure ?? error),
      );
    },
    final(done) {
      for (const d of destinations) d.end();
      Promise.all(settled).then(
        () => done(),
        (error: Error) => done(error),
      );
    },
    // Stopped from upstream (the source failed): the destinations go too, so a process reading one sees its end.
    destroy(error, done) {
      for (const d of destinations) d.destroy();
      done(error);
    },
  });
}
