/**
 * @module
 * Process facts read from /proc and process-group signalling (Linux).
 *
 * `kill(pid, 0)` is not a liveness test: an exited process whose parent has not reaped it yet is a
 * zombie that still accepts signals, and orphans here are reaped lazily (seconds). Everything below
 * reads `/proc/PID/stat` and treats state `Z`/`X` as dead. The start time (field 22) tells a pid
 * that was reused by an unrelated process apart from the one we recorded.
 */
import * as fs from "node:fs";
import * as os from "node:os";

/** The fields of `/proc/PID/stat` that autosentry uses. */
export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, T, t, Z, X, I, … */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22 (clock ticks after boot), kept as text: compared, never computed with. */
  startTime: string;
}

const hasProc = fs.existsSync("/proc/self/stat");

/** Parse `/proc/PID/stat`; null when the process does not exist (or /proc is unavailable). */
export function readProcStat(pid: number): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  return parseProcStat(pid, text);
}

/** Parse the text of a stat file. The command name is in parentheses and may contain anything. */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const f = text.slice(close + 2).split(" ");
  // f[0] is field 3 (state), so field N is f[N - 3].
  if (f.length < 20) return null;
  return {
    pid,
    state: f[0]!,
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    startTime: f[19]!,
  };
}

function isDeadState(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

/** True when `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!hasProc) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  const st = readProcStat(pid);
  return st !== null && !isDeadState(st.state);
}

/** Field 22 of `/proc/PID/stat` (start time in clock ticks after boot), or null when it is gone. */
export function procStartTime(pid: number): string | null {
  const st = readProcStat(pid);
  return st === null || isDeadState(st.state) ? null : st.startTime;
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return out;
  }
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    const st = readProcStat(pid);
    if (st !== null && st.pgrp === pgid && !isDeadState(st.state)) out.push(pid);
  }
  return out;
}

function checkPgid(pgid: number): void {
  // kill(-1) signals every process we may signal, kill(0) our own group: never by accident.
  if (!Number.isInteger(pgid) || pgid <= 1)
    throw new Error(`Cannot signal process group: invalid pgid ${pgid}`);
}

/** Send `sig` to every member of group `pgid`. False when the group has no members (ESRCH). */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  checkPgid(pgid);
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already (ESRCH), or not ours (EPERM): the final member scan reports it.
  }
}

export interface KillGroupOptions {
  /** How often the group is scanned while waiting (default 50 ms). */
  pollMs?: number;
  /** How long SIGKILLed members may take to disappear before they count as survivors (default 5 s). */
  killWaitMs?: number;
  /**
   * A member that gets the SIGTERM but is neither waited for nor SIGKILLed here: the capture shim,
   * which must outlive the child to record its exit. The caller deals with it.
   */
  spare?: number;
}

/**
 * SIGTERM (+ SIGCONT, so stopped members see it) to group `pgid`, wait up to `graceMs` for the group
 * to empty, then SIGKILL the group and every member still listed until none is left. `forced` says
 * whether SIGKILL was needed; `survivors` lists members still alive at the end (e.g. stuck in `D`).
 */
export async function killGroupGracefully(
  pgid: number,
  graceMs: number,
  opts: KillGroupOptions = {},
): Promise<{ forced: boolean; survivors: number[] }> {
  checkPgid(pgid);
  const pollMs = opts.pollMs ?? 50;
  const spare = opts.spare;
  const others = (): number[] => {
    const m = groupMembers(pgid);
    return spare === undefined ? m : m.filter((p) => p !== spare);
  };
  if (!signalGroup(pgid, "SIGTERM")) return { forced: false, survivors: [] };
  signalGroup(pgid, "SIGCONT");
  const graceEnd = Date.now() + graceMs;
  let left = others();
  while (left.length > 0 && Date.now() < graceEnd) {
    await Bun.sleep(Math.min(pollMs, Math.max(1, graceEnd - Date.now())));
    left = others();
  }
  if (left.length === 0) return { forced: false, survivors: [] };
  if (spare === undefined) signalGroup(pgid, "SIGKILL");
  const killEnd = Date.now() + (opts.killWaitMs ?? 5000);
  for (;;) {
    // Members forked after the group signal are not covered by it: kill whatever is listed.
    for (const pid of left) signalPid(pid, "SIGKILL");
    await Bun.sleep(pollMs);
    left = others();
    if (left.length === 0 || Date.now() >= killEnd) break;
  }
  return { forced: true, survivors: left };
}

/** Number of a signal name (`SIGTERM` → 15), or null when unknown. */
export function signalNumber(name: string): number | null {
  const n = (os.constants.signals as Record<string, number | undefined>)[name];
  return typeof n === "number" ? n : null;
}

/** Name of a signal number (`9` → `SIGKILL`); `SIG<n>` for a number this platform does not name. */
export function signalName(n: number): string {
  for (const [name, num] of Object.entries(os.constants.signals as Record<string, number>)) {
    if (num === n) return name;
  }
  return `SIG${n}`;
}
