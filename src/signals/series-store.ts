/**
 * @module
 * Metric series kept on disk for the web viewer: `.autosentry/metrics/<series>.jsonl`, one point a
 * line (`{"t": ms, "step": n | null, "v": number | "NaN" | "Infinity" | "-Infinity", "g": generation}`;
 * JSON has no NaN, so non-finite values are strings). The format is described in docs/signals.md.
 *
 * Bounded: when a file holds more than twice `maxPoints` lines, the newest `maxPoints` are kept by
 * an atomic rewrite, so the file stays between `maxPoints` and 2 × `maxPoints` lines and appends
 * stay whole-line O_APPEND writes in between.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SeriesPoint } from "../core/types.ts";
import { writeFileAtomicSync } from "../util/atomic-write.ts";

/** A series name as a file name: characters outside [A-Za-z0-9._-] become `_` (`samples/s` → `samples_s`). */
export function seriesFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "_"}.jsonl`;
}

function encode(p: SeriesPoint, generation: number): string {
  const v = Number.isFinite(p.value) ? p.value : String(p.value);
  return `${JSON.stringify({ t: p.at, step: p.step, v, g: generation })}\n`;
}

/** One line of a series file back to a point (null when it is not one). */
export function decodeSeriesLine(line: string): (SeriesPoint & { generation: number }) | null {
  try {
    const o = JSON.parse(line) as { t?: unknown; step?: unknown; v?: unknown; g?: unknown };
    const value = typeof o.v === "number" ? o.v : typeof o.v === "string" ? Number(o.v) : Number.NaN;
    if (typeof o.t !== "number" || (typeof o.v !== "number" && typeof o.v !== "string")) return null;
    return {
      at: o.t,
      step: typeof o.step === "number" ? o.step : null,
      value,
      generation: typeof o.g === "number" ? o.g : 0,
    };
  } catch {
    return null;
  }
}

export class SeriesStore {
  private readonly lines = new Map<string, number>();

  constructor(
    readonly dir: string,
    readonly maxPoints: number,
  ) {}

  /** The file of series `name`. */
  file(name: string): string {
    return path.join(this.dir, seriesFileName(name));
  }

  /** Append points (one write per call); compacts when the file grew past twice the bound. */
  append(name: string, points: SeriesPoint[], generation: number): void {
    if (points.length === 0) return;
    const file = this.file(name);
    fs.mkdirSync(this.dir, { recursive: true });
    let n = this.lines.get(name);
    if (n === undefined) n = countLines(file);
    const keep = points.length > this.maxPoints ? points.slice(-this.maxPoints) : points;
    fs.appendFileSync(file, keep.map((p) => encode(p, generation)).join(""));
    n += keep.length;
    if (n > 2 * this.maxPoints) {
      const all = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "");
      const tail = all.slice(-this.maxPoints);
      writeFileAtomicSync(file, `${tail.join("\n")}\n`);
      n = tail.length;
    }
    this.lines.set(name, n);
  }

  /** The stored points of a series, oldest first. */
  read(name: string): (SeriesPoint & { generation: number })[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file(name), "utf8");
    } catch {
      return [];
    }
    const out: (SeriesPoint & { generation: number })[] = [];
    for (const l of text.split("\n")) {
      const p = l === "" ? null : decodeSeriesLine(l);
      if (p) out.push(p);
    }
    return out;
  }
}

function countLines(file: string): number {
  try {
    const t = fs.readFileSync(file, "utf8");
    let n = 0;
    for (let i = t.indexOf("\n"); i !== -1; i = t.indexOf("\n", i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}
