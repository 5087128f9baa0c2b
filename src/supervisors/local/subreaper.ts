/**
 * @module
 * Escaped daemons (issue 16 finding 10). A child that double-forks and calls setsid leaves the
 * process group the capture shim leads, so a group kill misses it. The shim therefore makes itself
 * a child subreaper (Linux `prctl(PR_SET_CHILD_SUBREAPER)`): every orphaned descendant of the job,
 * whatever session or group it moved to, is re-parented to the shim instead of init. After a
 * generation's child exited and its group was cleaned up, anything still parented to the shim
 * escaped: it is reported by pid and command, then terminated (SIGTERM, grace, SIGKILL), and reaped.
 *
 * Why not cgroups v2: a per-generation cgroup needs a writable, delegated subtree (systemd user
 * slice or a container's own); on the HPC login and compute nodes autosentry targets, and in this
 * repository's CI, the unified hierarchy is mounted read-only for users. The subreaper works
 * unprivileged everywhere on Linux ≥ 3.4 and catches exactly the setsid double-fork case. What it
 * cannot catch is a descendant re-parented before the shim existed, which cannot happen here.
 * Elsewhere (no prctl), {@link becomeSubreaper} returns false and escaped processes are not tracked.
 */
import * as fs from "node:fs";

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

interface Libc {
  prctl(option: number, arg2: number, arg3: number, arg4: number, arg5: number): number;
  waitpid(pid: number, status: null, options: number): number;
}

let libc: Libc | null | undefined;

function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== "linux") return libc;
  try {
    // biome-ignore lint/suspicious/noExplicitAny: bun:ffi is loaded only where it exists
    const ffi: any = require("bun:ffi");
    const { symbols } = ffi.dlopen("libc.so.6", {
      prctl: { args: ["i32", "u64", "u64", "u64", "u64"], returns: "i32" },
      waitpid: { args: ["i32", "ptr", "i32"], returns: "i32" },
    });
    libc = symbols as Libc;
  } catch {
    libc = null;
  }
  return libc;
}

/** Become a child subreaper; false where that is not possible (then nothing is tracked). */
export function becomeSubreaper(): boolean {
  const c = loadLibc();
  if (c === null) return false;
  try {
    return c.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) === 0;
  } catch {
    return false;
  }
}

/** Children of this process (every thread's), zombies reaped and left out. */
export function ownChildren(): number[] {
  const out = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync("/proc/self/task");
  } catch {
    return [];
  }
  for (const t of tasks) {
    try {
      for (const p of fs.readFileSync(`/proc/self/task/${t}/children`, "utf8").trim().split(/\s+/)) {
        if (p !== "") out.add(Number(p));
      }
    } catch {}
  }
  const live: number[] = [];
  for (const pid of out) {
    let state = "";
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    } catch {
      continue;
    }
    if (state === "Z") reap(pid);
    else live.push(pid);
  }
  return live;
}

/** Collect an exited re-parented process (not one Bun spawned: those Bun reaps itself). */
export function reap(pid: number): void {
  try {
    loadLibc()?.waitpid(pid, null, WNOHANG);
  } catch {}
}

/** The command line of `pid` for a report (`?` when gone). */
export function commandOf(pid: number): string {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return argv.join(" ").slice(0, 200) || "?";
  } catch {
    return "?";
  }
}

/**
 * Report and end the processes still parented to this subreaper (`exclude`: its own helpers).
 * Returns what was found, as `pid (command)`.
 */
export async function endEscaped(graceMs: number, exclude: Set<number> = new Set()): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<number>();
  // Killing one may re-parent its own children to us: look again until nothing is left.
  for (let round = 0; round < 10; round++) {
    const pids = ownChildren().filter((p) => !exclude.has(p) && !seen.has(p));
    if (pids.length === 0) break;
    for (const p of pids) {
      seen.add(p);
      found.push(`${p} (${commandOf(p)})`);
      try {
        process.kill(p, "SIGTERM");
      } catch {}
    }
    const end = Date.now() + graceMs;
    while (Date.now() < end && ownChildren().some((p) => pids.includes(p))) await Bun.sleep(20);
    for (const p of ownChildren().filter((q) => pids.includes(q))) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
    const killEnd = Date.now() + 2000;
    while (Date.now() < killEnd && ownChildren().some((p) => pids.includes(p))) await Bun.sleep(20);
  }
  return found;
}

/** Live children of `pid` (every thread's). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const p of fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/)) {
        if (p !== "") out.push(Number(p));
      }
    } catch {}
  }
  return out;
}

/**
 * Every live descendant of this process. For a subreaper that leads its own session this is a
 * superset of its process group (a group cannot be joined from another session, and orphans come
 * back to the subreaper), found without reading every process in /proc: usually nothing is left.
 */
export function descendants(): number[] {
  const out: number[] = [];
  const todo = ownChildren();
  while (todo.length > 0) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...childrenOf(p));
  }
  return out;
}
