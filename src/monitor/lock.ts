/**
 * @module
 * One monitor per project. The lock is a file created with O_EXCL holding the owner's pid and its
 * /proc start time; a lock whose owner is gone (or whose pid now belongs to another process) is
 * stale and taken over. Bun has no flock(), and this form also works on network filesystems where
 * flock is unreliable.
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
    readonly owner: LockOwner,
    readonly file: string,
  ) {
    super(
      `Another autosentry monitor is running for this project: pid ${owner.pid} since ${owner.started_at} (lock ${file})`,
    );
    this.name = "LockHeldError";
  }
}

/** Read the lock's owner, or null when there is no lock file (or it is unreadable). */
export function readLock(file: string): LockOwner | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return typeof v.pid === "number" ? v : null;
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

/** Take the lock or throw {@link LockHeldError}. Returns a release function. */
export function acquireLock(file: string): { owner: LockOwner; release: () => void } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const owner: LockOwner = {
    pid: process.pid,
    proc_start: procStartTime(process.pid),
    started_at: new Date().toISOString(),
    host: os.hostname(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o644);
      fs.writeSync(fd, `${JSON.stringify(owner)}\n`);
      fs.closeSync(fd);
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
      const cur = readLock(file);
      if (cur && ownerAlive(cur)) throw new LockHeldError(cur, file);
      // Stale (or torn) lock: remove it and try again. Two racing monitors both removing it is
      // harmless: only one of them wins the O_EXCL create that follows.
      fs.rmSync(file, { force: true });
    }
  }
  const cur = readLock(file);
  throw cur ? new LockHeldError(cur, file) : new Error(`Cannot take the monitor lock ${file}`);
}
