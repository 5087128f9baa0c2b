/**
 * @module
 * A set of detectors fed together, with each detector's cooldown applied uniformly: a detection
 * within `cooldownMs` of that detector's previous passed-on detection is dropped (the first one
 * never is). Calls return a shared empty array when nothing fired, so the per-line path allocates
 * nothing.
 *
 * Pattern detectors whose regexes can be joined (same flags, no back-references or named groups)
 * are pre-tested with one combined regex: a line that matches none of them costs one regex run
 * instead of one per detector.
 */
import type { ChildExit, Detection, Stream } from "../core/types.ts";
import { PatternDetector } from "./pattern.ts";
import type { Detector } from "./types.ts";

const EMPTY: Detection[] = [];

export interface DetectorSetOptions {
  /** false: pass every detection on (offline scanning, where time means nothing). Default true. */
  applyCooldown?: boolean;
}

export class DetectorSet {
  readonly detectors: readonly Detector[];
  private readonly last: Float64Array;
  private readonly applyCooldown: boolean;
  /** Pattern detectors covered by {@link combined}. */
  private readonly grouped: PatternDetector[];
  private readonly groupedIdx: number[];
  /** Every other detector (including pattern detectors that could not be combined). */
  private readonly rest: Detector[];
  private readonly restIdx: number[];
  private readonly combined: RegExp | null;

  constructor(detectors: Detector[], options: DetectorSetOptions = {}) {
    this.detectors = detectors;
    this.last = new Float64Array(detectors.length).fill(Number.NEGATIVE_INFINITY);
    this.applyCooldown = options.applyCooldown ?? true;
    const patterns = detectors
      .map((d, i) => [d, i] as const)
      .filter(
        (x): x is readonly [PatternDetector, number] =>
          x[0] instanceof PatternDetector && combinable(x[0].regex),
      );
    // combine the largest group of pattern detectors sharing the same flags
    const byFlags = new Map<string, (readonly [PatternDetector, number])[]>();
    for (const p of patterns) byFlags.set(p[0].regex.flags, [...(byFlags.get(p[0].regex.flags) ?? []), p]);
    let best: (readonly [PatternDetector, number])[] = [];
    for (const g of byFlags.values()) if (g.length > best.length) best = g;
    if (best.length < 2) best = [];
    this.grouped = best.map((p) => p[0]);
    this.groupedIdx = best.map((p) => p[1]);
    this.combined =
      best.length > 0
        ? new RegExp(best.map((p) => `(?:${p[0].regex.source})`).join("|"), best[0]![0].regex.flags)
        : null;
    const inGroup = new Set(this.groupedIdx);
    this.rest = detectors.filter((_, i) => !inGroup.has(i));
    this.restIdx = detectors.map((_, i) => i).filter((i) => !inGroup.has(i));
  }

  /** One line of output. */
  observeLine(text: string, stream: Stream, at: number, generation: number): Detection[] {
    let out: Detection[] | null = null;
    const grouped = this.grouped;
    if (this.combined !== null) {
      if (this.combined.test(text)) {
        for (let i = 0; i < grouped.length; i++) {
          const d = grouped[i]!.observeLine(text, stream, at, generation);
          if (d !== null) out = this.pass(this.groupedIdx[i]!, d, out);
        }
      } else {
        for (let i = 0; i < grouped.length; i++) grouped[i]!.observeNonMatching(text, stream);
      }
    }
    const rest = this.rest;
    for (let i = 0; i < rest.length; i++) {
      const d = rest[i]!.observeLine(text, stream, at, generation);
      if (d !== null) out = this.pass(this.restIdx[i]!, d, out);
    }
    return out ?? EMPTY;
  }

  /** The child ended (call after its last line and after {@link flush}). */
  observeExit(exit: ChildExit): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.observeExit === undefined) continue;
      const d = det.observeExit(exit);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** Clock tick, about once a second. */
  observeTick(now: number, childAlive: boolean, generation: number): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.observeTick === undefined) continue;
      const d = det.observeTick(now, childAlive, generation);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** The child's output ended: close open traces. */
  flush(at: number, generation: number): Detection[] {
    let out: Detection[] | null = null;
    for (let i = 0; i < this.detectors.length; i++) {
      const det = this.detectors[i]!;
      if (det.flush === undefined) continue;
      const d = det.flush(at, generation);
      if (d !== null) out = this.pass(i, d, out);
      out = this.drain(i, out);
    }
    return out ?? EMPTY;
  }

  /** A new child was started. Cooldowns carry over (they are about the failure, not the child). */
  onChildStart(generation: number, at: number): void {
    for (const d of this.detectors) d.onChildStart?.(generation, at);
  }

  private pass(i: number, d: Detection, out: Detection[] | null): Detection[] | null {
    if (this.applyCooldown) {
      const det = this.detectors[i]!;
      if (d.at - this.last[i]! < det.cooldownMs) return this.drain(i, out);
      this.last[i] = d.at;
    }
    const o = out ?? [];
    o.push(d);
    return this.drain(i, o);
  }

  private drain(i: number, out: Detection[] | null): Detection[] | null {
    const det = this.detectors[i]!;
    if (det.takePending === undefined) return out;
    let o = out;
    for (let d = det.takePending(); d !== null; d = det.takePending()) {
      if (this.applyCooldown) {
        if (d.at - this.last[i]! < det.cooldownMs) continue;
        this.last[i] = d.at;
      }
      o ??= [];
      o.push(d);
    }
    return o;
  }
}

/** A regex that can be joined into an alternation without changing what it matches. */
function combinable(re: RegExp): boolean {
  const s = re.source;
  return !/\\[1-9]|\\k<|\(\?<(?![=!])/.test(s) && !re.global && !re.sticky;
}
