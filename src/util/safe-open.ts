/**
 * @module
 * Opening autosentry's own files without writing through symlinks (issue 16, finding 7). In a
 * shared project directory, a symlink planted at `logs/process.log`, `incidents/index.jsonl` or
 * `incidents/` would otherwise make another user's monitor append to (or create) a file anywhere
 * it may write. The last path component is opened with O_NOFOLLOW, and the directory holding the
 * file must not be a symlink either. Decision: a symlinked `.autosentry/logs` or `incidents/` is
 * refused rather than followed; point `monitor.log_dir` / `incidents_dir` at the other disk instead.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export class SymlinkRefusedError extends Error {
  constructor(readonly file: string) {
    super(`Refusing to write ${file}: it is a symbolic link (autosentry never writes through one)`);
    this.name = "SymlinkRefusedError";
  }
}

/** Throw {@link SymlinkRefusedError} when `dir` exists and is a symlink. */
export function refuseSymlinkDir(dir: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) throw new SymlinkRefusedError(dir);
}

/** Create `dir` (and its parents) unless it exists; refuse it when it is a symlink. */
export function mkdirNoFollow(dir: string): void {
  refuseSymlinkDir(dir);
  fs.mkdirSync(dir, { recursive: true });
}

/**
 * Open `file` for appending (created 0644 when missing), never through a symlink, neither the file
 * itself nor the directory holding it. `read` opens it read-write (for a look at the last byte).
 */
export function openAppendNoFollow(file: string, read = false): number {
  mkdirNoFollow(path.dirname(file));
  const c = fs.constants;
  try {
    return fs.openSync(file, (read ? c.O_RDWR : c.O_WRONLY) | c.O_APPEND | c.O_CREAT | c.O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw new SymlinkRefusedError(file);
    throw err;
  }
}

/** Append `data` to `file` with one write, never through a symlink. */
export function appendNoFollow(file: string, data: string | Uint8Array): void {
  const fd = openAppendNoFollow(file);
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
  } finally {
    fs.closeSync(fd);
  }
}
