/**
 * @module
 * Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old file or the new one, never half.
 */
import * as fs from "node:fs";
import * as path from "node:path";

function tempName(target: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand}`);
}

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
  const fd = fs.openSync(tmp, "w", mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(target));
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
): Promise<void> {
  const fsp = fs.promises;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(target);
  const fh = await fsp.open(tmp, "w", mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
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
