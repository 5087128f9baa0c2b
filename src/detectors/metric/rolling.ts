/**
 * @module
 * A fixed-size window of the last finite values of a series, with the statistics the metric
 * conditions need. Pushing is O(1); median and deviation are computed on demand (windows are small,
 * tens to hundreds of points, and conditions ask once per point).
 */

export class RollingWindow {
  private readonly buf: Float64Array;
  private pos = 0;
  /** Values currently held (at most `size`). */
  length = 0;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error(`rolling window: size must be at least 1: ${size}`);
    this.buf = new Float64Array(size);
  }

  push(v: number): void {
    this.buf[this.pos] = v;
    this.pos = (this.pos + 1) % this.size;
    if (this.length < this.size) this.length++;
  }

  clear(): void {
    this.pos = 0;
    this.length = 0;
  }

  /** The held values, oldest first. */
  values(): number[] {
    const out: number[] = [];
    const start = this.length < this.size ? 0 : this.pos;
    for (let i = 0; i < this.length; i++) out.push(this.buf[(start + i) % this.size]!);
    return out;
  }

  /** Median of the held values (NaN when empty). */
  median(): number {
    return median(this.values());
  }

  /** Mean and population standard deviation of the held values. */
  meanStd(): { mean: number; std: number } {
    const n = this.length;
    if (n === 0) return { mean: Number.NaN, std: Number.NaN };
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.buf[i]!;
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (this.buf[i]! - mean) ** 2;
    return { mean, std: Math.sqrt(sq / n) };
  }
}

/** Median of `xs` (NaN when empty); does not modify `xs`. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
