/**
 * @module
 * `autosentry explain [--json] [-o FILE] [--run-id ID] [-c PATH]`: a bounded, redacted, cited
 * evidence bundle of the current run (or of run ID, a monitor run or a pipeline run), for a person
 * or an agent to explain why it stopped. Reads files only; calls no LLM. See src/explain/bundle.ts.
 *
 * Exit codes: 0 with the bundle, 1 when there is no such run, 2 for a malformed run id or config.
 */
import * as path from "node:path";
import type { Command } from "@commander-js/extra-typings";
import type { LoadedConfig } from "../../config/load.ts";
import { compileRegex } from "../../config/regex.ts";
import { type Bundle, buildBundle, ExplainError, type ExplainPaths } from "../../explain/bundle.ts";
import { renderBundleMarkdown } from "../../explain/render.ts";
import { ledgerPath } from "../../fixes/ledger.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { createRedactor } from "../../redact/redactor.ts";
import { writeFileAtomicSync } from "../../util/atomic-write.ts";
import { addConfigOption, loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";

export interface ExplainCliOptions {
  json?: boolean | undefined;
  runId?: string | undefined;
}

/** Where the evidence of the project configured by `cfg` lives. */
export function explainPaths(cfg: LoadedConfig): ExplainPaths {
  const p = monitorPaths(cfg.data);
  return {
    root: cfg.root,
    autosentryDir: path.dirname(cfg.data.state_path),
    state: p.state,
    journal: p.journal,
    processLog: path.join(p.logDir, "process.log"),
    monitorLog: p.monitorLog,
    incidentsDir: p.incidents,
    attempts: ledgerPath(cfg.root),
  };
}

/** The bundle for `cfg`, redacted with the project's redactor (`redaction` section). Throws CliExit. */
export function explain(cfg: LoadedConfig, opts: ExplainCliOptions): Bundle {
  const redactor = createRedactor({
    extraPatterns: cfg.data.redaction.extra_patterns.map((p) => compileRegex(p)),
    allow: cfg.data.redaction.allow,
  });
  try {
    return buildBundle(explainPaths(cfg), redactor, {
      runId: opts.runId,
      logTailLines: cfg.data.monitor.log_tail_lines,
    });
  } catch (err) {
    if (err instanceof ExplainError) {
      throw new CliExit(
        err.reason === "usage" ? EXIT.usage : EXIT.failure,
        `autosentry explain: ${err.message}`,
      );
    }
    throw err;
  }
}

/** The command's output text. */
export function renderExplain(bundle: Bundle, json: boolean): string {
  return json ? `${JSON.stringify(bundle, null, 2)}\n` : renderBundleMarkdown(bundle);
}

export function register(program: Command): void {
  addConfigOption(
    program
      .command("explain")
      .description(
        "Evidence bundle of the current (or a given) run: stop reason, events, log tail, incident reports, attempts; bounded and redacted",
      ),
  )
    .option("--json", "print the bundle as JSON")
    .option("-o, --output <file>", "write the bundle to this file instead of stdout")
    .option("--run-id <id>", "a run id (a monitor run or a pipeline run), any unique prefix of it, or last")
    .action((opts) => {
      const cfg = loadConfigForCli(opts);
      const text = renderExplain(explain(cfg, opts), opts.json === true);
      if (opts.output) {
        const file = path.resolve(opts.output);
        writeFileAtomicSync(file, text);
        process.stderr.write(`Wrote ${file}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
