/**
 * @module
 * Running detectors over a finished log offline (`autosentry scan`): lines are split as the
 * monitor splits them, every detection is kept (no cooldowns: time means nothing here), open
 * traces are closed at the end, and each detection is tied to the line it starts at. Stall and
 * exit-code detectors never fire offline (they need a clock and an exit).
 */
import type { Detection } from "../core/types.ts";
import { LineSplitter } from "../util/lines.ts";
import { DetectorSet } from "./set.ts";
import type { Detector } from "./types.ts";

/** Lines between two polls of the ring-reading detectors (a power of two, below the ring's 100). */
const POLL_EVERY = 64;

export interface ScanHit {
  /** 1-based line number where the detection starts (a trace's first line). */
  line: number;
  detection: Detection;
}

/** Feed text in chunks, then {@link end}. */
export class Scanner {
  private readonly set: DetectorSet;
  private readonly splitter: LineSplitter;
  private readonly hits: ScanHit[] = [];
  private lineNo = 0;
  private readonly emit = (line: string) => {
    const no = ++this.lineNo;
    const found = this.set.observeLine(line, "log", 0, 1);
    for (let i = 0; i < found.length; i++) this.add(found[i]!, no);
    // detectors that read the shared ring (signatures) look at every line well before it leaves it
    if ((no & (POLL_EVERY - 1)) === 0) for (const d of this.set.poll(0, 1)) this.add(d, no);
  };

  constructor(detectors: Detector[], maxLineLength = 65536) {
    this.set = new DetectorSet(detectors, { applyCooldown: false });
    this.splitter = new LineSplitter(maxLineLength);
  }

  push(chunk: string): void {
    this.splitter.push(chunk, this.emit);
  }

  /** End of input: the hits, ordered by line. */
  end(): ScanHit[] {
    this.splitter.end(this.emit);
    for (const d of this.set.flush(0, 1)) this.add(d, this.lineNo);
    return this.hits.sort((a, b) => a.line - b.line);
  }

  /** Lines seen so far. */
  get lines(): number {
    return this.lineNo;
  }

  private add(d: Detection, current: number): void {
    const at = d.meta["line_no"];
    this.hits.push({ line: typeof at === "number" ? at : current, detection: d });
  }
}

/** Run `detectors` over a whole text. */
export function scanText(text: string, detectors: Detector[], maxLineLength?: number): ScanHit[] {
  const s = new Scanner(detectors, maxLineLength);
  s.push(text);
  return s.end();
}
