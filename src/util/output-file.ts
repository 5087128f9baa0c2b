/**
 * @module
 * Writing a command's output to a path given by the user (`explain -o PATH`), the way a shell
 * redirection `> PATH` would: `-` is stdout; a symlink is followed; a device or FIFO is written
 * into (never replaced: a temp-file-and-rename turned `/dev/null` into a regular file, issue 16
 * finding 1); a missing parent directory is an error, never created; and the project's own state
 * (everything under `.autosentry/`, the logs, the incidents, the attempts ledger) is refused, since
 * overwriting it would corrupt the very run being explained.
 *
 * Not atomic on purpose: a redirection truncates and writes, and a reader of a FIFO or a terminal
 * must see the bytes. Regular files are written whole in one pass and fsynced.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputPathError";
  }
}

/** The real path `p` names (following every symlink, including a dangling last one) or null. */
function realTarget(p: string): string {
  let cur = path.resolve(p);
  for (let hops = 0; hops < 40; hops++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      // Does not exist (yet): the real path is the real parent plus the name.
      const parent = path.dirname(cur);
      let realParent: string;
      try {
        realParent = fs.realpathSync(parent);
      } catch {
        throw new OutputPathError(`Cannot write ${p}: directory ${parent} does not exist`);
      }
      return path.join(realParent, path.basename(cur));
    }
    if (!st.isSymbolicLink()) return fs.realpathSync(cur);
    cur = path.resolve(path.dirname(cur), fs.readlinkSync(cur));
  }
  throw new OutputPathError(`Cannot write ${p}: too many levels of symbolic links`);
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Write `text` to `target` like `> target`. `protectedPaths` are files or directories that must
 * not be written (compared by real path). Returns where it wrote (`-` for stdout).
 */
export function writeOutput(target: string, text: string, protectedPaths: string[] = []): string {
  if (target === "-") {
    process.stdout.write(text);
    return "-";
  }
  const real = realTarget(target);
  for (const p of protectedPaths) {
    if (inside(real, realOrSelf(p)))
      throw new OutputPathError(`Refusing to write ${target}: it is autosentry's own state (${p})`);
  }
  let fd: number;
  try {
    // Follows symlinks, opens devices and FIFOs for writing, creates a regular file: like `>`.
    fd = fs.openSync(real, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EISDIR" ? "it is a directory" : (e.code ?? e.message);
    throw new OutputPathError(`Cannot write ${target}: ${why}`);
  }
  try {
    const data = Buffer.from(text, "utf8");
    let off = 0;
    while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
    if (fs.fstatSync(fd).isFile()) fs.fsyncSync(fd);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new OutputPathError(`Cannot write ${target}: ${e.code ?? e.message}`);
  } finally {
    fs.closeSync(fd);
  }
  return real;
}
