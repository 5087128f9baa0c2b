/**
 * @module
 * A generated attempts ledger for the benchmarks (analyze.ts, scale.ts): deterministic rows.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { formatAttempt, isoTimestamp, LEDGER_COLUMNS } from "../../src/fixes/ledger.ts";

const STATUSES = ["pending", "kept", "kept", "kept", "regressed", "crashed", "discarded"] as const;
const DETECTORS = Array.from({ length: 40 }, (_, i) => `detector_${i}`);
const SOURCES = ["claude", "manual", ...Array.from({ length: 30 }, (_, i) => `rule_${i}`)];

/** A deterministic ledger: rows one minute apart ending now, a mix of detectors, sources, statuses. */
export function generateLedger(file: string, rows: number): number {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const now = Date.now();
  const parts: string[] = [`${LEDGER_COLUMNS.join("\t")}\n`];
  for (let i = 0; i < rows; i++) {
    const source = SOURCES[rand(SOURCES.length)]!;
    parts.push(
      formatAttempt({
        timestamp: isoTimestamp(now - (rows - i) * 60_000),
        incident_id: `2026${String(i).padStart(10, "0")}-${DETECTORS[i % DETECTORS.length]}`,
        detector: DETECTORS[rand(DETECTORS.length)]!,
        source,
        branch: source === "claude" ? `autosentry/fix-${i}` : "",
        status: STATUSES[rand(STATUSES.length)]!,
        duration_seconds: rand(900) + 0.25,
        description: `RuntimeError: CUDA out of memory. Tried to allocate ${rand(4096)} MiB (GPU ${rand(8)})`,
      }),
    );
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, parts.join(""));
  return fs.statSync(file).size;
}
