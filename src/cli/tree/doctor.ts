/**
 * @module
 * `autosentry doctor` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/doctor.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("check the project and this machine for what autosentry needs")
    .option("--fix", "apply safe repairs, then check again")
    .option("--json", "print JSON");
  addConfigOption(cmd).action(async (opts) => (await import("../commands/doctor.ts")).doctorCommand(opts));
}
