import { parseIsoUtc, parseSince, renderSummary, SummaryBuilder } from "../../fixes/analyze.ts";
import { ledgerPath } from "../../fixes/ledger.ts";
import { scanLedger } from "../../fixes/ledger-scan.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

export interface AnalyzeOptions {
  since?: string | undefined;
  json?: boolean | undefined;
  now?: number;
}

/** `--since` in ms (null: all time); a bad value throws CliExit(2). */
function sinceWindow(since: string | undefined): number | null {
  try {
    return parseSince(since);
  } catch (err) {
    throw new CliExit(EXIT.usage, `autosentry analyze: ${(err as Error).message}`);
  }
}

/**
 * The command's output for the ledger at `file`. Throws CliExit(2) for a bad `since`. The ledger is
 * summarised as it is read (src/fixes/ledger-scan.ts, the same rows and the same window rule as
 * readLedger + filterWindow): a 100,000-row ledger is never held as objects.
 */
export function renderAnalyze(file: string, opts: AnalyzeOptions): string {
  const windowMs = sinceWindow(opts.since);
  const cutoff = windowMs === null ? null : (opts.now ?? Date.now()) - windowMs;
  const builder = new SummaryBuilder();
  let rows = 0;
  scanLedger(file, (r) => {
    rows++;
    if (cutoff !== null) {
      // Rows whose time cannot be parsed are kept (filterWindow's rule: never silently dropped).
      const t = parseIsoUtc(r.timestamp);
      if (!Number.isNaN(t) && t < cutoff) return;
    }
    builder.add(r);
  });
  if (rows === 0 && !opts.json) return `no attempts yet (${file})\n`;
  const summary = builder.result();
  if (opts.json) return `${JSON.stringify(summary, null, 2)}\n`;
  return renderSummary(summary, windowMs === null ? null : (opts.since ?? null));
}

/** What `autosentry analyze` does (its options are declared in src/cli/tree/analyze.ts). */
export function analyzeCommand(opts: AnalyzeOptions & ConfigFlag): void {
  // Validate --since before looking for a config, so a typo is always exit 2.
  sinceWindow(opts.since);
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  process.stdout.write(renderAnalyze(ledgerPath(cfg.root), opts));
}
