import { filterWindow, parseSince, renderSummary, summarize } from "../../fixes/analyze.ts";
import { ledgerPath, readLedger } from "../../fixes/ledger.ts";
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

/** The command's output for the ledger at `file`. Throws CliExit(2) for a bad `since`. */
export function renderAnalyze(file: string, opts: AnalyzeOptions): string {
  const windowMs = sinceWindow(opts.since);
  const rows = readLedger(file);
  if (rows.length === 0 && !opts.json) return `no attempts yet (${file})\n`;
  const summary = summarize(filterWindow(rows, windowMs, opts.now));
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
