/**
 * @module
 * One monitor per project. The lock is an `flock(LOCK_EX)` held on an open descriptor of
 * `.autosentry/monitor.lock` for the monitor's whole life: the kernel drops it when the holder
 * exits (even on SIGKILL), and nobody can take it while the holder lives, so no racer can "steal"
 * a lock it read empty or stale (the old O_EXCL-then-write lock could: issue 16, finding 3).
 *
 * The file carries the owner record (pid, /proc start time, host) for `status`, `doctor` and error
 * messages, written after the lock is held. It is removed on release while still locked, and an
 * acquirer checks after flock() that its descriptor is still the file at the path (else it starts
 * over), so a racer never holds a lock on a removed file beside the real one. A SIGKILLed holder
 * leaves the file: its record names a dead pid (or a reused pid with another start time), shown
 * as stale, and the kernel has already dropped the lock.
 *
 * Bun has no flock() binding: it is called from libc through `bun:ffi` (measured to work in the
 * compiled binary). Where libc cannot be loaded, a link-based lock is used instead: the owner record
 * is written to a private file first and hard-linked to the lock path (link() fails if the path
 * exists), so the lock is never visible without its owner; a dead owner's lock is taken over by
 * renaming it aside and checking that the renamed file is still the dead owner's.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pidAlive, procStartTime } from "../util/proc.ts";

export interface LockOwner {
  pid: number;
  proc_start: string | null;
  started_at: string;
  host: string;
}

export class LockHeldError extends Error {
  constructor(
    readonly owner: LockOwner | null,
    readonly file: string,
  ) {
    super(
      owner
        ? `Another autosentry monitor is running for this project: pid ${owner.pid} since ${owner.started_at} (lock ${file})`
        : `Another autosentry process holds the monitor lock of this project (it is starting or stopping; lock ${file})`,
    );
    this.name = "LockHeldError";
  }
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const F_SETFD = 2;
const FD_CLOEXEC = 1;

interface Libc {
  flock(fd: number, op: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
}

let libc: Libc | null | undefined;

/** libc's flock and fcntl through bun:ffi, or null where they cannot be loaded (no glibc). */
function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.env.AUTOSENTRY_LOCK_FALLBACK === "link") return libc; // tests of the fallback
  try {
    // Required lazily: importing bun:ffi costs nothing until a lock is taken.
    const ffi = require("bun:ffi") as typeof import("bun:ffi");
    for (const name of ["libc.so.6", "libc.so"]) {
      try {
        const lib = ffi.dlopen(name, {
          flock: { args: [ffi.FFIType.i32, ffi.FFIType.i32], returns: ffi.FFIType.i32 },
          fcntl: { args: [ffi.FFIType.i32, ffi.FFIType.i32, ffi.FFIType.i32], returns: ffi.FFIType.i32 },
        });
        libc = { flock: lib.symbols.flock, fcntl: lib.symbols.fcntl };
        break;
      } catch {
        // try the next name
      }
    }
  } catch {
    libc = null;
  }
  return libc;
}

/** Read the lock's owner record, or null when there is none (no file, empty, unreadable). */
export function readLock(file: string): LockOwner | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return v && typeof v.pid === "number" ? v : null;
  } catch {
    return null;
  }
}

/** True when the recorded owner is a live process that is still the same process. */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true; // cannot check another host: assume alive
  if (!pidAlive(owner.pid)) return false;
  const start = procStartTime(owner.pid);
  return owner.proc_start === null || start === null || start === owner.proc_start;
}

function ownerRecord(): LockOwner {
  return {
    pid: process.pid,
    proc_start: procStartTime(process.pid),
    started_at: new Date().toISOString(),
    host: os.hostname(),
  };
}

/** Open the lock file for locking; refuses a symlink (a shared directory must not redirect it). */
function openLockFile(file: string): number {
  const c = fs.constants;
  return fs.openSync(file, c.O_RDWR | c.O_CREAT | c.O_NOFOLLOW, 0o644);
}

/** True when `fd` is still the file at `file` (a releaser may have unlinked it meanwhile). */
function sameFile(fd: number, file: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.lstatSync(file);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

function acquireFlock(file: string, lib: Libc): { owner: LockOwner; release: () => void } {
  let fd = -1;
  for (let attempt = 0; ; attempt++) {
    fd = openLockFile(file);
    // Children (the capture process, the agent) must not inherit the descriptor, or the lock
    // would outlive the monitor.
    lib.fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (lib.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      fs.closeSync(fd);
      throw new LockHeldError(readLock(file), file);
    }
    // The holder we waited behind removes the file on release: a lock on the removed file is no
    // lock at all, so check that ours is still the file at the path, and start over if not.
    if (sameFile(fd, file)) break;
    lib.flock(fd, LOCK_UN);
    fs.closeSync(fd);
    if (attempt >= 20) throw new LockHeldError(readLock(file), file);
  }
  const owner = ownerRecord();
  try {
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, `${JSON.stringify(owner)}\n`, 0);
    fs.fsyncSync(fd);
  } catch (err) {
    lib.flock(fd, LOCK_UN);
    fs.closeSync(fd);
    throw err;
  }
  let released = false;
  return {
    owner,
    release: () => {
      if (released) return;
      released = true;
      // Removed while still held, so nobody can lock this inode after us and believe it holds
      // the lock (acquirers check that their descriptor is still the file at the path).
      try {
        fs.ftruncateSync(fd, 0);
        if (sameFile(fd, file)) fs.unlinkSync(file);
      } catch {
        // read-only or full: the stale record names a dead pid, which readers recognise
      }
      lib.flock(fd, LOCK_UN);
      fs.closeSync(fd);
    },
  };
}

function acquireLinkLock(file: string): { owner: LockOwner; release: () => void } {
  const owner = ownerRecord();
  const mine = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
  fs.writeFileSync(mine, `${JSON.stringify(owner)}\n`, { mode: 0o644, flag: "wx" });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(mine, file); // atomic, and the record is complete before the lock is visible
        return {
          owner,
          release: () => {
            const cur = readLock(file);
            if (cur && cur.pid === owner.pid && cur.started_at === owner.started_at)
              fs.rmSync(file, { force: true });
          },
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const cur = readLock(file);
      // With link() a lock file is never seen without its record, so an unreadable one is a
      // foreign file: refuse rather than delete it.
      if (!cur || ownerAlive(cur)) throw new LockHeldError(cur, file);
      // Take over a dead owner's lock: move it aside, then check that what we moved is still the
      // dead owner's. If a racer replaced it meanwhile with a live lock, put that one back.
      const aside = `${file}.stale.${process.pid}.${Math.random().toString(36).slice(2, 8)}`;
      try {
        fs.renameSync(file, aside);
      } catch {
        continue;
      }
      const moved = readLock(aside);
      if (moved && moved.pid === cur.pid && moved.started_at === cur.started_at) {
        fs.rmSync(aside, { force: true });
        continue;
      }
      try {
        fs.linkSync(aside, file);
      } catch {
        // someone holds it already: they won
      }
      fs.rmSync(aside, { force: true });
      throw new LockHeldError(moved, file);
    }
    throw new LockHeldError(readLock(file), file);
  } finally {
    fs.rmSync(mine, { force: true });
  }
}

/** Take the lock or throw {@link LockHeldError}. Returns a release function. */
export function acquireLock(file: string): { owner: LockOwner; release: () => void } {
  const lib = loadLibc();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return lib ? acquireFlock(file, lib) : acquireLinkLock(file);
  } catch (err) {
    if (err instanceof LockHeldError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === "EROFS"
        ? "read-only file system"
        : e.code === "EACCES" || e.code === "EPERM"
          ? "permission denied"
          : e.code === "ELOOP"
            ? "it is a symbolic link"
            : e.code === "ENOSPC"
              ? "no space left on device"
              : e.message;
    throw new Error(`Cannot take the monitor lock ${file}: ${why}`);
  }
}

/** Which mechanism {@link acquireLock} uses here: "flock" or "link" (for doctor and tests). */
export function lockMechanism(): "flock" | "link" {
  return loadLibc() ? "flock" : "link";
}
