/**
 * @module
 * A text sparkline (`▁▂▃▅▇█`) of a numeric series, for report.md and the terminal. Long series are
 * cut into `width` buckets, each drawn at its mean; a bucket holding a NaN or an infinity is drawn
 * as `×` (NaN) or `↑` / `↓` (±Infinity), because that is usually the point of the picture.
 */

const BARS = "▁▂▃▄▅▆▇█";

/** The sparkline of `values`, at most `width` characters. */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return "";
  const n = Math.min(width, values.length);
  const buckets: { mean: number; mark: string | null }[] = [];
  for (let b = 0; b < n; b++) {
    const from = Math.floor((b * values.length) / n);
    const to = Math.floor(((b + 1) * values.length) / n);
    let sum = 0;
    let count = 0;
    let mark: string | null = null;
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) mark = "×";
      else if (!Number.isFinite(v)) mark ??= v > 0 ? "↑" : "↓";
      else {
        sum += v;
        count++;
      }
    }
    buckets.push({ mean: count > 0 ? sum / count : Number.NaN, mark });
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.mark !== null || Number.isNaN(b.mean)) continue;
    lo = Math.min(lo, b.mean);
    hi = Math.max(hi, b.mean);
  }
  return buckets
    .map((b) => {
      if (b.mark !== null) return b.mark;
      if (Number.isNaN(b.mean)) return " ";
      const idx = hi > lo ? Math.round(((b.mean - lo) / (hi - lo)) * (BARS.length - 1)) : 0;
      return BARS[idx]!;
    })
    .join("");
}
