/**
 * @module
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old file or the new one, never half.
 *
 * A write that fails (a full disk, a read-only remount) leaves nothing behind: the temporary file
 * is removed before the error is rethrown (issue 16, finding 9: a full disk left a dozen `.tmp`
 * files, which then took the space the next write needed). The temporary file is created with
 * O_EXCL|O_NOFOLLOW, so a planted symlink cannot redirect it; the rename replaces a symlink at the
 * target itself, never the file it points to.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function tempName(target: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand}`);
}

const TMP_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Atomically replace `target` with `data`, creating parent directories as needed. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o644): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fd = fs.openSync(tmp, TMP_FLAGS, mode);
  try {
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(target));
}

/**
 * Replace `target` with `data` atomically for readers (temporary file, rename) but without fsync:
 * a crash of the writing process leaves the old file or the new one, never half (the kernel holds
 * what was written); a power loss may leave either, or neither. For files that only matter while
 * the machine stays up (a capture process's exit file: a power loss ends the child too).
 */
export function replaceFileSync(target: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tempName(target);
  let fd: number;
  try {
    fd = fs.openSync(tmp, TMP_FLAGS, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fd = fs.openSync(tmp, TMP_FLAGS, mode);
  }
  try {
    try {
      fs.writeFileSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Atomically replace `target` with pretty-printed JSON and a trailing newline. */
export function writeJsonAtomicSync(target: string, value: unknown): void {
  writeFileAtomicSync(target, `${JSON.stringify(value, null, 2)}\n`);
}

/** Async twin of {@link writeFileAtomicSync}, for writes that must not stall the event loop. */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
  /** `false` when the caller fsyncs the directory once after several writes (see {@link fsyncDirectory}). */
  syncDir = true,
  /** `false` when the caller makes the file durable later (src/util/deferred-sync.ts). */
  syncFile = true,
): Promise<void> {
  const fsp = fs.promises;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fh = await fsp.open(tmp, TMP_FLAGS, mode);
  try {
    try {
      await fh.writeFile(data);
      if (syncFile) await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (syncDir) fsyncDir(path.dirname(target));
}

/** Make the renames done in `dir` durable (after writes with `syncDir` false). */
export function fsyncDirectory(dir: string): void {
  fsyncDir(dir);
}
