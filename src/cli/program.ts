/**
 * @module
 * The command tree. Each command lives in `commands/<name>.ts` and exports `register(program)`.
 * Commands set `process.exitCode` or return it through {@link CliExit}; they never call
 * `process.exit` in the middle of work, so files are flushed and children are reaped.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { register as registerAnalyze } from "./commands/analyze.ts";
import { register as registerConfig } from "./commands/config.ts";
import { register as registerDispatcher } from "./commands/dispatcher.ts";
import { register as registerDoctor } from "./commands/doctor.ts";
import { register as registerExplain } from "./commands/explain.ts";
import { register as registerHealer } from "./commands/healer.ts";
import { register as registerHooks } from "./commands/hooks.ts";
import { register as registerIncidents } from "./commands/incidents.ts";
import { register as registerInit } from "./commands/init.ts";
import { register as registerOperator } from "./commands/operator.ts";
import { register as registerProbe } from "./commands/probe.ts";
import { register as registerRun } from "./commands/run.ts";
import { register as registerScan } from "./commands/scan.ts";
import { register as registerSession } from "./commands/session.ts";
import { register as registerStatus } from "./commands/status.ts";
import { register as registerUpdate } from "./commands/update.ts";
import { CliExit } from "./exit.ts";
import { exitForOutputError, exitQuietlyOnOutputErrors, isOutputError } from "./output-errors.ts";
import { VERSION } from "./version.ts";

export { VERSION } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command()
    .name("autosentry")
    .description(
      "Self-healing supervisor for long-running work: watch a command, catch the failure, fix it, leave a paper trail.",
    )
    .version(VERSION, "-V, --version", "print the version")
    // Program options only before the command: `update --version X` is update's own option.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  registerInit(program);
  registerRun(program);
  registerStatus(program);
  registerOperator(program);
  registerIncidents(program);
  registerScan(program);
  registerAnalyze(program);
  registerExplain(program);
  registerConfig(program);
  registerDoctor(program);
  registerHealer(program);
  registerProbe(program);
  registerSession(program);
  registerHooks(program);
  registerDispatcher(program);
  registerUpdate(program);
  return program as unknown as Command;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnOutputErrors();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (isOutputError(err)) return exitForOutputError(err);
    if (err instanceof CliExit) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      return err.code;
    }
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors with 1 → we use 2.
      if (err.exitCode === 0) return 0;
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`autosentry: ${msg}\n`);
    if (process.env.AUTOSENTRY_DEBUG) process.stderr.write(`${(err as Error).stack ?? ""}\n`);
    return 1;
  }
}
