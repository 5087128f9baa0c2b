/**
 * @module
 * A fingerprint that groups incidents of the same failure: 16 hex digits of SHA-256.
 *
 * With a trace, the fingerprint covers every exception of the chain: its type, and per frame the
 * function name and the file's basename. Messages, line numbers, directories and columns are left
 * out, so the same bug keeps its fingerprint when the file is edited above it, when the job runs
 * from another checkout, and whatever values the message quotes (`KeyError: 'a'` and
 * `KeyError: 'b'` raised at the same place group together). Runs of identical frames (deep
 * recursion) count once, so a RecursionError 990 frames deep matches one 1000 frames deep.
 *
 * Without a trace (or with a trace that has neither a type nor a frame), it is the detector name
 * plus the normalised message (see {@link normalizeMessage}).
 */
import { createHash } from "node:crypto";
import type { Detection, Frame, Trace } from "../core/types.ts";

const TIMESTAMP =
  /\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?|\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const HEX_ADDR = /\b0x[0-9a-f]+\b/gi;
/** Hashes, object ids, commit ids: 8+ hex digits with at least one digit and one letter. */
const HEX_RUN = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi;
/** A path with at least one separator (absolute, `~/`, `./` or relative): keep its last component. */
const PATH = /(?<![\w.@+~-])(?:[A-Za-z]:|~|[\w.@+-]+)?(?:[\\/][\w.@+~-]+)+[\\/]?/g;
const NUMBER = /\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi;

/** Last component of a path (`/a/b/c.py` → `c.py`, `C:\x\y.js` → `y.js`). */
function basename(p: string): string {
  const parts = p.split(/[\\/]/).filter((s) => s.length > 0);
  return parts[parts.length - 1] ?? p;
}

/**
 * A message with the parts that vary between occurrences of the same failure removed:
 * timestamps, UUIDs, hex addresses and hashes, directories of paths (the basename stays),
 * numbers (pids, steps, sizes, ranks, line numbers) and runs of whitespace.
 */
export function normalizeMessage(msg: string): string {
  return msg
    .replace(TIMESTAMP, "<ts>")
    .replace(UUID, "<uuid>")
    .replace(HEX_ADDR, "<hex>")
    .replace(HEX_RUN, "<hex>")
    .replace(PATH, (p) => basename(p))
    .replace(NUMBER, "<n>")
    .replace(/\s+/g, " ")
    .trim();
}

/** One frame's contribution: function name and file basename, numbers removed. */
function frameKey(f: Frame): string {
  const fn = f.function === null ? "?" : normalizeMessage(f.function);
  return `${fn} @ ${normalizeMessage(basename(f.file))}`;
}

function traceKey(trace: Trace): string | null {
  const parts: string[] = [];
  for (const ex of trace.exceptions) {
    parts.push(`! ${ex.type === null ? "?" : normalizeMessage(ex.type)}`);
    let prev: string | null = null;
    for (const f of ex.frames) {
      const k = frameKey(f);
      if (k !== prev) parts.push(k);
      prev = k;
    }
  }
  const informative = trace.exceptions.some((e) => e.type !== null || e.frames.length > 0);
  return informative ? `trace ${trace.language}\n${parts.join("\n")}` : null;
}

function sha16(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** The grouping fingerprint of a detection (16 lower-case hex digits). */
export function fingerprint(d: Detection): string {
  const fromTrace = d.trace ? traceKey(d.trace) : null;
  if (fromTrace !== null) return sha16(fromTrace);
  return sha16(`message ${d.detector}\n${normalizeMessage(d.message)}`);
}
