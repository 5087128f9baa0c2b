/**
 * @module
 * `autosentry analyze [--since 24h] [--json] [-c PATH]`: summary of the attempts ledger
 * (`.autosentry/attempts.tsv` under the project root): top failing detectors, per-rule success,
 * regression streaks. Reads only. A bad `--since` ends with exit code 2 (checked before anything is
 * read). With `--json` an empty ledger prints a summary with `total: 0` (valid JSON for scripts);
 * the human report says "no attempts yet".
 */
import type { Command } from "@commander-js/extra-typings";
import { filterWindow, parseSince, renderSummary, summarize } from "../../fixes/analyze.ts";
import { ledgerPath, readLedger } from "../../fixes/ledger.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";

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

export function register(program: Command): void {
  addConfigOption(
    program
      .command("analyze")
      .description(
        "Summarise the attempts ledger: top failing detectors, per-rule success, regression streaks",
      ),
  )
    .option("--since <window>", "only attempts in this window: 600s, 30m, 24h, 7d (default: all)")
    .option("--json", "print the summary as JSON")
    .action((opts) => {
      // Validate --since before looking for a config, so a typo is always exit 2.
      sinceWindow(opts.since);
      const cfg = loadConfigForCli(opts, { allowMissing: true });
      process.stdout.write(renderAnalyze(ledgerPath(cfg.root), opts));
    });
}
