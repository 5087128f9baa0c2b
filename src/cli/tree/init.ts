/**
 * @module
 * `autosentry init` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/init.ts, the implementation, only when the
 * command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  program
    .command("init")
    .description("Create .autosentry/ with a commented config, its JSON Schema and a recovery prompt")
    .argument("[target]", "project directory", ".")
    .option("--force", "overwrite an existing config (your changes to it are lost)")
    .option(
      "--upgrade",
      "add the template's new keys to an existing config, keeping your values and comments",
    )
    .option("--non-interactive", "ask nothing, even on a terminal")
    .option("--interactive", "ask questions even without a terminal, reading answers from stdin")
    .option("--command <cmd>", 'the command to supervise, e.g. "python train.py --epochs 10"')
    .option("--for-agent", "also write .autosentry/AGENT_NOTES.md and program.md for a coding agent")
    .option(
      "--install-skills <scope>",
      "install the /autosentry skills for coding agents: ask, none, local or global",
      "ask",
    )
    .action(async (target, opts) => (await import("../commands/init.ts")).initCommand(target, opts));
}
