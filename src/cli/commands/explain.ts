/**
 * @module
 * `autosentry explain [--json] [-o FILE] [--run-id ID] [-c PATH]`: a bounded, redacted, cited
 * evidence bundle of the current run (or of run ID, a monitor run or a pipeline run), for a person
 * or an agent to explain why it stopped. Reads files only; calls no LLM. See src/explain/bundle.ts.
 *
 * Exit codes: 0 with the bundle, 1 when there is no such run, 2 for a malformed run id or config.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedConfig } from "../../config/load.ts";
import { compileRegex } from "../../config/regex.ts";
import { readDotenv, secretEnvsOf } from "../../config/secret-envs.ts";
import { type Bundle, buildBundle, ExplainError, type ExplainPaths } from "../../explain/bundle.ts";
import { renderBundleMarkdown } from "../../explain/render.ts";
import { ledgerPath } from "../../fixes/ledger.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { createRedactor } from "../../redact/redactor.ts";
import { OutputPathError, writeOutput } from "../../util/output-file.ts";
import { escapeControls, escapeJsonControls } from "../../util/terminal-safe.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

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

/** state.json's env overlay (values rules set in the run), or null. */
function overlayOf(file: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as { env_overlay?: unknown };
    return v.env_overlay && typeof v.env_overlay === "object"
      ? (v.env_overlay as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The bundle for `cfg`, redacted with the project's redactor (`redaction` section). Throws CliExit. */
export function explain(cfg: LoadedConfig, opts: ExplainCliOptions): Bundle {
  const redactor = createRedactor({
    extraPatterns: cfg.data.redaction.extra_patterns.map((p) => compileRegex(p)),
    allow: cfg.data.redaction.allow,
    secretEnvs: secretEnvsOf(
      cfg.data,
      overlayOf(cfg.data.state_path),
      readDotenv(path.join(cfg.root, ".env")),
    ),
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

/** What `autosentry explain` does (its options are declared in src/cli/tree/explain.ts). */
export function explainCommand(opts: ExplainCliOptions & ConfigFlag & { output?: string | undefined }): void {
  const cfg = loadConfigForCli(opts);
  const raw = renderExplain(explain(cfg, opts), opts.json === true);
  // A child's escape sequences are shown, never sent to a terminal (src/util/terminal-safe.ts).
  const text = opts.json === true ? escapeJsonControls(raw) : escapeControls(raw);
  if (opts.output !== undefined) {
    // Like a shell redirection (see src/util/output-file.ts); the project's state is refused.
    const ep = explainPaths(cfg);
    try {
      const wrote = writeOutput(opts.output, text, [
        ep.autosentryDir,
        ep.state,
        ep.journal,
        ep.processLog,
        ep.monitorLog,
        ep.incidentsDir,
        ep.attempts,
      ]);
      if (wrote !== "-") process.stderr.write(`Wrote ${wrote}\n`);
    } catch (err) {
      if (err instanceof OutputPathError)
        throw new CliExit(EXIT.failure, `autosentry explain: ${err.message}`);
      throw err;
    }
  } else {
    process.stdout.write(text);
  }
}
