/**
 * @module
 * `autosentry hooks install [TARGET] [-c PATH]` and `autosentry hooks remove [TARGET]`: autosentry's
 * Claude Code Stop hook (`probe --inject-prompt`) in `TARGET/.claude/settings.local.json`. TARGET
 * defaults to the project root (the directory holding `.autosentry/`). Both are idempotent and keep
 * every other hook and setting; a settings file autosentry cannot parse is left alone (exit 1).
 *
 * The hook only matters under `dispatch.mode: session` (it stays silent otherwise); install warns
 * when the config says otherwise. The hook command is `autosentry probe --inject-prompt --quiet`
 * when `autosentry` on PATH is this program, else this program's full path; `-c` given here is
 * passed on.
 */
import * as path from "node:path";
import { installStopHook, removeStopHook } from "../../session/hooks.ts";
import { shellQuote } from "../../session/probe.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";
import { cliInvocation } from "./probe.ts";

/** What `autosentry hooks install` does (its options are declared in src/cli/tree/hooks.ts). */
export function hooksInstallCommand(target: string | undefined, opts: ConfigFlag): void {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const dir = path.resolve(target ?? cfg.root);
  const cfgFlag = opts.config !== undefined && cfg.path ? ` -c ${shellQuote(cfg.path)}` : "";
  const command = `${cliInvocation()} probe --inject-prompt --quiet${cfgFlag}`;
  const r = installStopHook(dir, command);
  if (r.result === "skipped") throw new CliExit(EXIT.failure, `autosentry hooks install: ${r.message}`);
  process.stdout.write(`${r.message}\n`);
  if (cfg.data.dispatch.mode !== "session") {
    process.stderr.write(
      `autosentry hooks install: warning: dispatch.mode is ${cfg.data.dispatch.mode}${cfg.path ? ` in ${cfg.path}` : ""}; the hook stays silent until you set dispatch.mode: session\n`,
    );
  }
}

/** What `autosentry hooks remove` does (its options are declared in src/cli/tree/hooks.ts). */
export function hooksRemoveCommand(target: string | undefined, opts: ConfigFlag): void {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const r = removeStopHook(path.resolve(target ?? cfg.root));
  if (r.result === "skipped") throw new CliExit(EXIT.failure, `autosentry hooks remove: ${r.message}`);
  process.stdout.write(`${r.message}\n`);
}
