/**
 * @module
 * Test helpers: run a traceback detector over a text the way the monitor would feed it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Detection, Stream } from "../../core/types.ts";
import { LineSplitter } from "../../util/lines.ts";
import { TracebackDetector } from "./detector.ts";

export const TRACES_DIR = path.join(import.meta.dir, "../../../tests/fixtures/traces");

/** A fixture's text. */
export function fixture(rel: string): string {
  return readFileSync(path.join(TRACES_DIR, rel), "utf8");
}

/** Every detection a fresh traceback detector makes over `text` (flushed at the end). */
export function detectAll(text: string, stream: Stream = "log"): Detection[] {
  const d = new TracebackDetector("traceback", 0);
  const out: Detection[] = [];
  const split = new LineSplitter();
  const feed = (l: string) => {
    const r = d.observeLine(l, stream, 1000, 1);
    if (r) out.push(r);
  };
  split.push(text, feed);
  split.end(feed);
  const f = d.flush(2000, 1);
  if (f) out.push(f);
  for (let p = d.takePending(); p; p = d.takePending()) out.push(p);
  return out;
}

/** `[file, line, function]` of an exception's frames (innermost first). */
export function frameTriples(d: Detection, exception = -1): [string, number, string | null][] {
  const ex = d.trace!.exceptions;
  const e = ex[exception < 0 ? ex.length + exception : exception]!;
  return e.frames.map((f) => [f.file, f.line, f.function]);
}
