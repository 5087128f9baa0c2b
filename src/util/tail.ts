/**
 * @module
 * Following a growing text file (`tail -F`): wait for it to exist, read what is appended, split it
 * into bounded lines, and survive rotation and truncation.
 *
 * - Rotation: a different inode at the path means the file was renamed away and replaced. The old
 *   file is read to its end (its unterminated last line is emitted), then the new one from 0.
 * - Truncation: the file became shorter than the read position; reading restarts at 0.
 * - Wake-ups come from `fs.watch` on the directory (one watch covers creation, rename and writes)
 *   with a polling fallback, because inotify does not work everywhere (network filesystems).
 *
 * {@link Follower.offset} is the position after the last complete line, so a follower restarted
 * there (same inode) neither repeats nor loses a line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LineSplitter } from "./lines.ts";

export interface FollowOptions {
  /** Where to start in the file that is at the path now: a byte offset (default 0) or `"end"`. */
  fromOffset?: number | "end";
  /** The inode `fromOffset` refers to: when the file at the path is another one, start it at 0. */
  expectIno?: number;
  maxLineLength: number;
  onLine(text: string): void;
  /** Read errors other than "not there yet"; following continues. */
  onError?(err: Error): void;
  /** Polling interval (default 500 ms); `fs.watch` events wake the follower earlier. */
  pollMs?: number;
}

export interface Follower {
  /**
   * Stop following. With `drain`, first read everything the file holds now (finishing a rotated
   * file, emitting an unterminated last line); without it, stop at once.
   */
  stop(drain?: boolean): Promise<void>;
  /** Inode of the file being read and the byte offset after the last complete line read from it. */
  offset(): { ino: number; offset: number };
}

const CHUNK = 64 * 1024;

/** Follow `file`; see the module comment. */
export function followFile(file: string, opts: FollowOptions): Follower {
  const pollMs = opts.pollMs ?? 500;
  const base = path.basename(file);
  const buf = Buffer.allocUnsafe(CHUNK);

  // The starting point: the file there now, or nothing (then a file that appears is read from 0).
  let startIno: number | undefined = opts.expectIno;
  let startOffset = 0;
  if (opts.fromOffset === "end") {
    try {
      const st = fs.statSync(file);
      startIno = st.ino;
      startOffset = st.size;
    } catch {
      startIno = undefined;
    }
  } else {
    startOffset = opts.fromOffset ?? 0;
  }

  let fh: fs.promises.FileHandle | null = null;
  let ino = startIno ?? 0;
  let pos = 0;
  let lineEnd = startOffset;
  let first = true;
  let decoder = new TextDecoder("utf-8");
  let splitter = new LineSplitter(opts.maxLineLength);
  const onLine = (text: string): void => opts.onLine(text);

  let stopping = false;
  let drainOnStop = false;
  let wake: (() => void) | null = null;
  /** A wake-up arrived while reading: read again instead of sleeping. */
  let kicked = false;
  const kick = (): void => {
    kicked = true;
    wake?.();
  };
  let watcher: fs.FSWatcher | null = null;

  const report = (err: unknown): void => {
    if (opts.onError) opts.onError(err instanceof Error ? err : new Error(String(err)));
  };

  const resetText = (): void => {
    decoder = new TextDecoder("utf-8");
    splitter = new LineSplitter(opts.maxLineLength);
  };

  /** Open the file at the path; false when it is not there (yet). */
  const open = async (): Promise<boolean> => {
    let h: fs.promises.FileHandle;
    try {
      h = await fs.promises.open(file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") report(err);
      return false;
    }
    const st = await h.stat();
    fh = h;
    ino = st.ino;
    pos = 0;
    if (first && (startIno === undefined || startIno === st.ino) && startOffset <= st.size) {
      pos = startOffset;
    }
    first = false;
    lineEnd = pos;
    resetText();
    return true;
  };

  /** Read from `pos` to the current end of the open file. */
  const readToEnd = async (): Promise<void> => {
    const h = fh!;
    for (;;) {
      const { bytesRead } = await h.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return;
      const lf = buf.lastIndexOf(10, bytesRead - 1);
      const cr = buf.lastIndexOf(13, bytesRead - 1);
      const term = lf > cr ? lf : cr;
      if (term >= 0) lineEnd = pos + term + 1;
      pos += bytesRead;
      splitter.push(decoder.decode(buf.subarray(0, bytesRead), { stream: true }), onLine);
    }
  };

  const closeFile = async (): Promise<void> => {
    const h = fh;
    fh = null;
    if (h !== null) await h.close().catch(() => {});
  };

  /** Everything available now, across a rotation or truncation. */
  const readAvailable = async (): Promise<void> => {
    if (fh === null && !(await open())) return;
    for (;;) {
      await readToEnd();
      let atPath: fs.Stats | null = null;
      try {
        atPath = await fs.promises.stat(file);
      } catch {
        // Renamed away and not yet replaced: keep the old file until a new one appears.
      }
      if (atPath !== null && atPath.ino !== ino) {
        await readToEnd();
        splitter.push(decoder.decode(), onLine);
        splitter.end(onLine);
        await closeFile();
        if (!(await open())) return;
        continue;
      }
      const size = (await fh!.stat()).size;
      if (size < pos) {
        pos = 0;
        lineEnd = 0;
        resetText();
        continue;
      }
      return;
    }
  };

  const startWatch = (): void => {
    if (watcher !== null) return;
    try {
      watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(base)) kick();
      });
      watcher.on("error", () => stopWatch());
    } catch {
      watcher = null; // Directory missing or watching unsupported: polling covers it.
    }
  };

  const stopWatch = (): void => {
    watcher?.close();
    watcher = null;
  };

  const loop = (async () => {
    while (!stopping) {
      startWatch();
      kicked = false;
      try {
        await readAvailable();
      } catch (err) {
        report(err);
        await closeFile();
      }
      if (stopping) break;
      if (kicked) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    }
    if (drainOnStop) {
      try {
        await readAvailable();
        if (fh !== null) {
          splitter.push(decoder.decode(), onLine);
          splitter.end(onLine);
        }
      } catch (err) {
        report(err);
      }
    }
    stopWatch();
    await closeFile();
  })();

  return {
    async stop(drain = false): Promise<void> {
      drainOnStop = drain;
      stopping = true;
      wake?.();
      await loop;
    },
    offset(): { ino: number; offset: number } {
      return { ino, offset: lineEnd };
    },
  };
}
