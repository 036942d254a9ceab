/**
 * How far a process has got in a file it opens itself: the offset of its descriptor on that file, which
 * Linux shows in /proc/PID/fdinfo. What follows a pg_dump writing its --file or a pg_restore reading its
 * archive, whose bytes never pass through this process to be counted. Elsewhere (no /proc) it finds
 * nothing and the work runs without a live line.
 */
import { readdir, readFile, readlink, realpath } from "node:fs/promises";
import path from "node:path";

/** As often as the live line can be redrawn (transfer.ts: REDRAW_MS). */
const SAMPLE_MS = 250;

/** The offset of `pid`'s descriptor open on `file` (an absolute, resolved path); null when it has none. */
export async function positionIn(pid: number, file: string): Promise<number | null> {
  const descriptors = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of descriptors) {
    if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => null)) !== file) continue;
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, "utf8").catch(() => "");
    const pos = /^pos:\s+(\d+)$/m.exec(info)?.[1];
    if (pos !== undefined) return Number(pos);
  }
  return null;
}

/** The path /proc shows for `file`: its directory's symlinks resolved (the file itself may not exist yet). */
async function resolved(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const directory = await realpath(path.dirname(absolute)).catch(() => path.dirname(absolute));
  return path.join(directory, path.basename(absolute));
}

/** Samples `pid`'s offset in `file` until stopped, reporting each one found. */
export function followPosition(pid: number, file: string, at: (bytes: number) => void): { stop(): void } {
  let target: string | null = null;
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      target ??= await resolved(file);
      const position = await positionIn(pid, target);
      if (position !== null && timer !== undefined) at(position);
    } finally {
      busy = false;
    }
  };
  let timer: NodeJS.Timeout | undefined = setInterval(() => void sample(), SAMPLE_MS).unref();
  return {
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
