/**
 * @module
 * `autosentry hooks install|remove` in the command tree: names, arguments, options and
 * descriptions, loaded at every start (the whole tree is built for help, completion and
 * suggestions; only this part to run one of its commands). Each action imports
 * ../commands/hooks.ts, the implementation, only when the command runs (issue 13;
 * docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const hooks = program.command("hooks").description("the Claude Code Stop hook for dispatch.mode: session");
  addConfigOption(
    hooks
      .command("install")
      .description("add the Stop hook to TARGET/.claude/settings.local.json")
      .argument("[target]", "project directory (default: the project root)"),
  ).action(async (target, opts) => (await import("../commands/hooks.ts")).hooksInstallCommand(target, opts));
  addConfigOption(
    hooks
      .command("remove")
      .description("remove the Stop hook from TARGET/.claude/settings.local.json")
      .argument("[target]", "project directory (default: the project root)"),
  ).action(async (target, opts) => (await import("../commands/hooks.ts")).hooksRemoveCommand(target, opts));
}
