/**
 * @module
 * The command tree. Each command lives in `commands/<name>.ts` and exports `register(program)`.
 * Commands set `process.exitCode` or return it through {@link CliExit}; they never call
 * `process.exit` in the middle of work, so files are flushed and children are reaped.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { CliExit } from "./exit.ts";
import { exitForOutputError, exitQuietlyOnOutputErrors, isOutputError } from "./output-errors.ts";
import { VERSION } from "./version.ts";

export { VERSION } from "./version.ts";

/** A command module: `register(program)` adds its commands to the program. */
interface CommandModule {
  register(program: Command): void;
}

/**
 * Every command module, in help order, with the top-level command names it registers (a test
 * checks them). Start-up loads only the module of the command being run; with no command, --help
 * or an unknown name, all of them (so help and "did you mean" see everything). A new command is
 * one line here: `[["name"], () => import("./commands/name.ts")]`.
 */
export const COMMAND_MODULES: ReadonlyArray<
  readonly [names: readonly string[], load: () => Promise<CommandModule>]
> = [
  [["init"], () => import("./commands/init.ts")],
  [["run"], () => import("./commands/run.ts")],
  [["status"], () => import("./commands/status.ts")],
  [["approve", "pause", "resume", "abort"], () => import("./commands/operator.ts")],
  [["incidents"], () => import("./commands/incidents.ts")],
  [["scan"], () => import("./commands/scan.ts")],
  [["analyze"], () => import("./commands/analyze.ts")],
  [["explain"], () => import("./commands/explain.ts")],
  [["config"], () => import("./commands/config.ts")],
  [["doctor"], () => import("./commands/doctor.ts")],
  [["healer"], () => import("./commands/healer.ts")],
  [["probe"], () => import("./commands/probe.ts")],
  [["session"], () => import("./commands/session.ts")],
  [["hooks"], () => import("./commands/hooks.ts")],
  [["dispatcher"], () => import("./commands/dispatcher.ts")],
];

/** The command name in `argv` (process.argv form), or null (no command, or options first). */
function commandName(argv: string[]): string | null {
  const first = argv[2];
  return first === undefined || first.startsWith("-") ? null : first;
}

/** The program with the commands `argv` needs (all of them when `argv` names none it knows). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const wanted = commandName(argv);
  const picked = wanted === null ? [] : COMMAND_MODULES.filter(([names]) => names.includes(wanted));
  const modules = await Promise.all((picked.length > 0 ? picked : COMMAND_MODULES).map(([, load]) => load()));
  const program = baseProgram();
  for (const m of modules) m.register(program);
  return program as unknown as Command;
}

function baseProgram(): Command {
  const program = new Command()
    .name("autosentry")
    .description(
      "Self-healing supervisor for long-running work: watch a command, catch the failure, fix it, leave a paper trail.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  return program as unknown as Command;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnOutputErrors();
  const program = await buildProgram(argv);
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
