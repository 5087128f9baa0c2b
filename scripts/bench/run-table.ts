/**
 * @module
 * What the viewer benchmarks (web.ts, web-attempts.ts) share: the median, and the Markdown table of
 * each measure's median over runs with its min–max and target.
 */

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Print `heading`, then one row per measure: median over runs, min–max, and whether it is under its
 * target (measures without one have none). True when a target was missed.
 */
export function printRunTable(
  heading: string,
  per: Record<string, number[]>,
  targets: Record<string, number>,
): boolean {
  let missed = false;
  console.log(`\n${heading}\n`);
  console.log("| measure | median | min–max | target |\n|---|---|---|---|");
  for (const [k, xs] of Object.entries(per)) {
    const t = targets[k];
    const m = median(xs);
    const ok = t === undefined ? "" : m < t ? `< ${t}: met` : `< ${t}: **missed**`;
    if (t !== undefined && !(m < t)) missed = true;
    console.log(
      `| ${k} | ${m.toFixed(1)} | ${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} | ${ok} |`,
    );
  }
  return missed;
}
