/**
 * @module
 * `autosentry onboard` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/onboard.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  addConfigOption(
    program
      .command("onboard")
      .description("Where this project stands and what to do next")
      .option("--for-agent", "plain output for a coding agent (also used when stdout is not a terminal)")
      .option("--json", "print JSON"),
  ).action(async (opts) => (await import("../commands/onboard.ts")).onboardCommand(opts));
}
