/**
 * @module
 * Give the executable's clean code pages back (Linux): drop from the process's page tables the
 * pages of its own executable that it only ever read, so that an idle monitor's resident size is
 * what it uses while idle, not everything start-up and the last failure touched (issue 13).
 *
 * Why: ~44 of the idle monitor's ~54 MB resident were pages of the executable file (the runtime's
 * machine code and read-only data, and the embedded modules), not memory of its own. The kernel maps
 * a file page and up to 15 cached neighbours on each fault ("fault-around"), so what start-up and an
 * incident once ran stays counted for as long as the process lives, and how much depends on how much
 * of the file happened to be in the page cache (the same binary idled at 49.1 MB when its pages had
 * been evicted before it started, at 54.5 MB when the whole file was cached: a fresh build is).
 *
 * How: `madvise(MADV_DONTNEED)` on each private, read-only mapping of /proc/self/exe that holds no
 * page of its own (no anonymous or dirty page; relocated read-only data does, and is left alone).
 * For such a mapping the call only unmaps: the pages stay in the page cache, and the next use of one
 * maps it again with a minor fault (no disk read while the file is cached). Nothing the process
 * wrote can be lost, since only mappings it cannot write and never wrote are touched. The call goes
 * through `bun:ffi` (loaded on the first trim only); where libc cannot be opened (a musl system,
 * another OS) nothing is done. `AUTOSENTRY_TRIM=0` in the monitor's environment turns it off.
 */
import * as fs from "node:fs";

/** A mapping that may be trimmed: start address and length in bytes. */
export interface Range {
  start: number;
  length: number;
}

/** What one trim did. */
export interface TrimResult {
  /** Mappings released. */
  mappings: number;
  /** Their resident size before, bytes. */
  residentBytes: number;
}

const MADV_DONTNEED = 4; // the same on every Linux architecture Bun builds for

/**
 * The mappings of `exe` in an smaps text (/proc/PID/smaps) that can be released safely: private,
 * not writable, and without anonymous or dirty pages (a page the process wrote, such as relocated
 * read-only data, makes its mapping unsafe to drop: it would come back as the file's contents).
 */
export function releasableRanges(smaps: string, exe: string): Array<Range & { resident: number }> {
  const out: Array<Range & { resident: number }> = [];
  let cur: { start: number; end: number; ok: boolean; resident: number; own: number } | null = null;
  const close = () => {
    if (cur?.ok && cur.own === 0)
      out.push({ start: cur.start, length: cur.end - cur.start, resident: cur.resident });
  };
  for (const line of smaps.split("\n")) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) ([rwxsp-]{4}) [0-9a-f]+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      close();
      const perms = head[3]!;
      cur = {
        start: Number.parseInt(head[1]!, 16),
        end: Number.parseInt(head[2]!, 16),
        ok: head[4] === exe && perms[0] === "r" && perms[1] === "-" && perms[3] === "p",
        resident: 0,
        own: 0,
      };
      continue;
    }
    if (cur === null) continue;
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    const kb = Number(field[2]);
    if (field[1] === "Rss") cur.resident = kb * 1024;
    else if (field[1] === "Anonymous" || field[1] === "Private_Dirty" || field[1] === "Shared_Dirty")
      cur.own += kb;
  }
  close();
  return out;
}

type Madvise = (start: bigint, length: bigint, advice: number) => number;
/** libc's madvise, opened on first use; null when it cannot be (then trims do nothing). */
let madvise: Madvise | null | undefined;

async function openMadvise(): Promise<Madvise | null> {
  if (madvise !== undefined) return madvise;
  madvise = null;
  if (process.platform !== "linux") return null;
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const libc = dlopen("libc.so.6", {
      madvise: { args: [FFIType.u64, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    });
    madvise = (s, l, a) => libc.symbols.madvise(s, l, a);
  } catch {
    madvise = null;
  }
  return madvise;
}

/**
 * Release this process's clean executable pages (see the module comment). Resolves with what was
 * released, or null where it cannot be done (not Linux, no /proc, no glibc). Never throws.
 */
export async function trimExecutablePages(): Promise<TrimResult | null> {
  // An off switch, for before/after measurements in one run (scripts/bench/compare.ts) and in case a
  // system misbehaves with it.
  if (process.env["AUTOSENTRY_TRIM"] === "0") return null;
  try {
    const fn = await openMadvise();
    if (fn === null) return null;
    const exe = fs.readlinkSync("/proc/self/exe");
    const ranges = releasableRanges(fs.readFileSync("/proc/self/smaps", "utf8"), exe);
    const result: TrimResult = { mappings: 0, residentBytes: 0 };
    for (const r of ranges) {
      if (fn(BigInt(r.start), BigInt(r.length), MADV_DONTNEED) !== 0) continue;
      result.mappings++;
      result.residentBytes += r.resident;
    }
    return result;
  } catch {
    return null;
  }
}
