/**
 * @module
 * Requests to deliver given-up messages again (`autosentry dispatcher retry`): the command appends
 * one JSON line per message key to `.autosentry/dispatch/<outbox>.retry.jsonl`; the dispatcher that
 * holds the outbox's lock (standalone or the monitor's bridge) takes the file on its next tick and
 * records a `retry` in its ledger for each key it had given up. The command never writes the
 * ledger, whose only writer is the lock holder. Taking is rename-then-read: a line appended while
 * the dispatcher reads goes into a new file, taken on the next tick; a dispatcher killed after the
 * rename finds the renamed file on its next start (a repeated request is harmless: a key not given
 * up is ignored).
 *
 * The rename alone does not protect a writer that opened the file just before it: its line lands
 * in the renamed file, possibly after the dispatcher read it and just before it is removed, and
 * was lost (several per cent of the requests written under a taking loop, retry-requests.test.ts).
 * So the writer checks, after its write and with the file still open (its inode cannot be reused
 * meanwhile), that the request file's name still leads to the file it wrote; if not, the file was
 * taken while it wrote and it writes its lines again into the new one. A line written before the rename is read by
 * that take; one written after it is written again: each request is taken at least once.
 */
import * as fs from "node:fs";
import { readJsonl } from "../util/jsonl.ts";
import { openAppendNoFollow } from "../util/safe-open.ts";

/** Rewrites after concurrent takes before a request gives up (a take happens once per tick). */
const MAX_ATTEMPTS = 100;

/** The request file of the outbox whose lock is `lockPath` (`<dispatch>/<outbox>.lock`). */
export function retryRequestsPath(lockPath: string): string {
  return lockPath.replace(/\.lock$/, ".retry.jsonl");
}

/** Ask for `keys` (`o<position>`) to be delivered again (one write; see the module comment). */
export function requestRetries(file: string, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const at = new Date().toISOString();
  const lines = keys.map((k) => `${JSON.stringify({ k, at })}\n`).join("");
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (appendStillThere(file, lines)) return;
  }
  throw new Error(
    `Cannot write the retry request ${file}: it was taken during each of ${MAX_ATTEMPTS} writes`,
  );
}

/** Append `lines`; true when `file` still names the file written to (it was not taken meanwhile). */
function appendStillThere(file: string, lines: string): boolean {
  const fd = openAppendNoFollow(file, true);
  try {
    // a torn last line (a writer killed mid-write) must not swallow these: end it first
    const st = fs.fstatSync(fd);
    let prefix = "";
    if (st.size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, st.size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    fs.writeSync(fd, `${prefix}${lines}`);
    let now: fs.Stats;
    try {
      now = fs.statSync(file);
    } catch {
      return false; // taken, and no newer request yet
    }
    return now.ino === st.ino && now.dev === st.dev;
  } finally {
    fs.closeSync(fd);
  }
}

/** The keys asked for since the last call (the request file is consumed). */
export function takeRetryRequests(file: string): string[] {
  const taking = `${file}.taking`;
  if (!fs.existsSync(taking)) {
    try {
      fs.renameSync(file, taking);
    } catch {
      return [];
    }
  }
  const keys = readJsonl<{ k?: unknown }>(taking)
    .records.map((r) => r.k)
    .filter((k): k is string => typeof k === "string");
  fs.rmSync(taking, { force: true });
  return [...new Set(keys)];
}
