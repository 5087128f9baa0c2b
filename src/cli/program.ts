/**
 * @module
 * The command tree. Each command lives in `commands/<name>.ts` and exports `register(program)`.
 * Commands set `process.exitCode` or return it through {@link CliExit}; they never call
 * `process.exit` in the middle of work, so files are flushed and children are reaped.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { register as registerCompletion } from "./commands/completion.ts";
import { CliExit } from "./exit.ts";
import { applyHelpStyle } from "./help-style.ts";
import {
  exitForOutputError,
  exitQuietlyOnOutputErrors,
  isOutputError,
  writesSynchronously,
} from "./output-errors.ts";
import { register as registerAnalyze } from "./tree/analyze.ts";
import { register as registerConfig } from "./tree/config.ts";
import { register as registerDispatcher } from "./tree/dispatcher.ts";
import { register as registerDoctor } from "./tree/doctor.ts";
import { register as registerEvents } from "./tree/events.ts";
import { register as registerExplain } from "./tree/explain.ts";
import { register as registerHealer } from "./tree/healer.ts";
import { register as registerHooks } from "./tree/hooks.ts";
import { register as registerIncidents } from "./tree/incidents.ts";
import { register as registerInit } from "./tree/init.ts";
import { register as registerOnboard } from "./tree/onboard.ts";
import { register as registerOperator } from "./tree/operator.ts";
import { register as registerProbe } from "./tree/probe.ts";
import { register as registerReset } from "./tree/reset.ts";
import { register as registerRun } from "./tree/run.ts";
import { register as registerScan } from "./tree/scan.ts";
import { register as registerService } from "./tree/service.ts";
import { register as registerSession } from "./tree/session.ts";
import { register as registerSkills } from "./tree/skills.ts";
import { register as registerStatus } from "./tree/status.ts";
import { register as registerUpdate } from "./tree/update.ts";
import { register as registerWatch } from "./tree/watch.ts";
import { register as registerWeb } from "./tree/web.ts";
import { VERSION } from "./version.ts";

export { VERSION } from "./version.ts";

export function buildProgram(): Command {
  const program = new Command()
    .name("autosentry")
    .description(
      "Self-healing supervisor for long-running work: watch a command, catch the failure, fix it, leave a paper trail.",
    )
    .version(VERSION, "-V, --version", "print the version (also -v and `autosentry version`)")
    // Program options only before the command: `update --version X` is update's own option.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureOutput({
      // The output-error listeners are attached on the first write through a stream (see
      // output-errors.ts: creating process.stdout is what costs, so commands that do not use it skip it).
      writeOut: (str) => {
        exitQuietlyOnOutputErrors();
        process.stdout.write(str);
      },
      writeErr: (str) => {
        exitQuietlyOnOutputErrors();
        process.stderr.write(str);
      },
      outputError: (str, write) => write(str),
    })
    .exitOverride()
    .hook("preAction", (_program, action) => {
      if (!writesSynchronously(action as unknown as import("commander").Command)) exitQuietlyOnOutputErrors();
    });
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
  registerWeb(program);
  registerEvents(program);
  registerWatch(program);
  // Onboarding and care (issue 8), and `version` (issue 14 item 21).
  registerOnboard(program);
  registerSkills(program);
  registerReset(program);
  registerService(program);
  registerUpdate(program); // distribution (issue 8)
  program
    .command("version")
    .description("Print the version")
    .action(() => {
      process.stdout.write(`${VERSION}\n`);
    });
  // Styled before completion reads the tree (its descriptions show in completions) and after (its own commands).
  applyHelpStyle(program as unknown as import("commander").Command);
  registerCompletion(program); // last: it reads the tree
  applyHelpStyle(program as unknown as import("commander").Command);
  return program as unknown as Command;
}

/**
 * The unknown command named in a help request (`autosentry statsu --help`, `autosentry help statsu`,
 * `autosentry incidents lsit -h`), or null. Commander answers those with the parent's help and exit
 * code 0, which hides a typo in a script; we answer them as it answers the same typo without
 * `--help`: an error and exit code 2.
 */
export function unknownCommandInHelp(program: Command, args: string[]): string | null {
  const asksHelp = args.includes("--help") || args.includes("-h") || args[0] === "help";
  if (!asksHelp) return null;
  let cmd = program;
  const words = args[0] === "help" ? args.slice(1) : args;
  for (const w of words) {
    if (w === "--") break;
    if (w.startsWith("-")) continue;
    if (cmd.commands.length === 0) break; // an argument of a leaf command
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    if (!sub) return cmd === program ? w : `${cmd.name()} ${w}`;
    cmd = sub as unknown as Command;
  }
  return null;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // `-v` is the spelling most tools accept for the version; commander takes one short flag.
  if (argv[2] === "-v") argv = [...argv.slice(0, 2), "-V", ...argv.slice(3)];
  const unknown = unknownCommandInHelp(program, argv.slice(2));
  if (unknown !== null) {
    exitQuietlyOnOutputErrors();
    process.stderr.write(`error: unknown command '${unknown}' (see \`autosentry --help\`)\n`);
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (isOutputError(err)) return exitForOutputError(err);
    exitQuietlyOnOutputErrors();
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
