/**
 * @module
 * `autosentry run` in the command tree: names, arguments, options and descriptions, loaded at every
 * start (the whole tree is built for help, completion and suggestions; only this part to run one of
 * its commands). Each action imports ../commands/run.ts, the implementation, only when the command
 * runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("run")
    .description("supervise the configured command in the foreground")
    .option("--check", "only check that the command can launch (cwd, executables, required env)")
    .option("--follow", "also echo the job's output here as it is read (it is always kept in the log)")
    .option("--resume", "pipelines: continue the last run, skipping completed stages")
    .option("--from-stage <name>", "pipelines: start at this stage");
  addConfigOption(cmd).action(async (opts) => (await import("../commands/run.ts")).runCommand(opts));
}
