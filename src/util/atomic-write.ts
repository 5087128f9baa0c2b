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
/** Holding the file being replaced: never through a symlink, never waiting on a FIFO. */
const HOLD_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
/** Opening a {@link createSpare} file: it exists, empty, and is no symlink. */
const SPARE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW;

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
export function replaceFileSync(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
  spare?: string,
): void {
  let tmp = tempName(target);
  let fd: number | undefined;
  if (spare !== undefined) {
    // Created ahead by {@link createSpare}: opening an existing file skips the inode creation.
    let opened: number | undefined;
    try {
      opened = fs.openSync(spare, SPARE_FLAGS);
      // Created empty; O_TRUNC would update its times even so (a journal handle on ext4).
      if (fs.fstatSync(opened).size > 0) fs.ftruncateSync(opened, 0);
      fd = opened;
      tmp = spare;
    } catch {
      // gone (removed by hand): a new temporary file as usual
      if (opened !== undefined) fs.closeSync(opened);
    }
  }
  if (fd === undefined) {
    try {
      fd = fs.openSync(tmp, TMP_FLAGS, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fd = fs.openSync(tmp, TMP_FLAGS, mode);
    }
  }
  let old: number | undefined;
  try {
    try {
      fs.writeFileSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
    old = holdOld(target);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    if (old !== undefined) fs.close(old, () => {});
  }
}

/**
 * The file about to be replaced, opened (or undefined: none, or not a plain file we may open).
 * Held across the rename and closed asynchronously, it makes the rename only swap names: the old
 * inode and its blocks are freed at the last close, by the thread pool, off the event loop. Issue
 * 13: on ext4 a rename that dropped the last reference took 80-250 µs on a busy disk (up to ~1 ms
 * under load), against 3-6 µs with the old file held (scripts/bench measurements in
 * docs/architecture.md, "The restart path"); the monitor replaces three files per crash cycle.
 */
function holdOld(target: string): number | undefined {
  try {
    return fs.openSync(target, HOLD_FLAGS);
  } catch {
    return undefined;
  }
}

/**
 * Create, off the event loop, an empty temporary file for the next {@link replaceFileSync} of
 * `target` (its `spare`), so that the synchronous replacement only opens, writes and renames
 * (issue 13: creating an inode costs 0.05-0.5 ms while ext4's journal is busy). Resolves to its
 * path, or null when it could not be created. Named like any temporary file of `target`
 * (`.<name>.tmp-<pid>-<random>`): {@link removeStaleTemps} removes those of dead processes.
 */
export async function createSpare(target: string, mode = 0o644): Promise<string | null> {
  const tmp = tempName(target);
  try {
    const h = await fs.promises.open(tmp, TMP_FLAGS, mode);
    await h.close();
    return tmp;
  } catch {
    return null;
  }
}

/**
 * Remove the temporary files of `target` left by processes that no longer run (a writer killed
 * between creating its temporary file and the rename; or holding a {@link createSpare} file).
 */
export function removeStaleTemps(target: string): void {
  const prefix = `.${path.basename(target)}.tmp-`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    fs.rmSync(path.join(path.dirname(target), name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
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
  if (syncDir) await fsyncDirAsync(path.dirname(target));
}

/**
 * {@link fsyncDir} off the event loop. Issue 13: state.json's coalesced write (every 50 ms in a
 * crash loop) synced its directory synchronously, a wait for ext4's journal commit (0.3-25 ms on a
 * busy disk) on the monitor's one thread.
 */
async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    fh = await fs.promises.open(dir, "r");
    await fh.sync();
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic there.
  } finally {
    await fh?.close().catch(() => {});
  }
}

/** Make the renames done in `dir` durable (after writes with `syncDir` false). */
export function fsyncDirectory(dir: string): void {
  fsyncDir(dir);
}
