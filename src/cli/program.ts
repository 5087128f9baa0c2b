/**
 * @module
 * The command tree. Each command is declared in `tree/<name>.ts` (`register(program)`: names,
 * arguments, options, descriptions; loaded at every start) and implemented in `commands/<name>.ts`
 * (loaded by its action only when it runs; see docs/architecture.md, "CLI").
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

/** A tree module's `register`, with the top-level command names it adds (a test checks them). */
type TreeEntry = readonly [names: readonly string[], register: (program: Command) => void];

/** `autosentry version` (issue 14 item 21); `--version` itself is answered in main.ts. */
function registerVersion(program: Command): void {
  program
    .command("version")
    .description("Print the version")
    .action(() => {
      process.stdout.write(`${VERSION}\n`);
    });
}

/**
 * Every command module of the tree, in help order, with the names it registers. `completion` is
 * not listed: it reads the whole tree, so it is added (last) only to the whole tree.
 */
export const TREE: readonly TreeEntry[] = [
  [["init"], registerInit],
  [["run"], registerRun],
  [["status"], registerStatus],
  [["approve", "pause", "resume", "abort"], registerOperator],
  [["incidents"], registerIncidents],
  [["scan"], registerScan],
  [["analyze"], registerAnalyze],
  [["explain"], registerExplain],
  [["config"], registerConfig],
  [["doctor"], registerDoctor],
  [["healer"], registerHealer],
  [["probe"], registerProbe],
  [["session"], registerSession],
  [["hooks"], registerHooks],
  [["dispatcher"], registerDispatcher],
  [["web"], registerWeb],
  [["events"], registerEvents],
  [["watch"], registerWatch],
  // Onboarding and care (issue 8), and `version` (issue 14 item 21).
  [["onboard"], registerOnboard],
  [["skills"], registerSkills],
  [["reset"], registerReset],
  [["install-service", "uninstall-service"], registerService],
  [["update"], registerUpdate], // distribution (issue 8)
  [["version"], registerVersion],
];

/**
 * The program with the whole command tree, or, with `only` (a top-level command name from
 * {@link commandToRun}), with just the tree module that registers it. Registering the whole tree
 * (~45 commands, ~150 options, help styling, the completion tree) costs more than the rest of
 * `status` together (issue 13), and running one command reads nothing of the others. Everything
 * that reads the whole tree (help, completion, suggestions for a mistyped command) gets it.
 */
export function buildProgram(only?: string): Command {
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
  const partial = only === undefined ? undefined : TREE.find(([names]) => names.includes(only));
  if (partial) {
    partial[1](program);
    applyHelpStyle(program as unknown as import("commander").Command);
    return program as unknown as Command;
  }
  for (const [, register] of TREE) register(program);
  // Styled before completion reads the tree (its descriptions show in completions) and after (its own commands).
  applyHelpStyle(program as unknown as import("commander").Command);
  registerCompletion(program); // last: it reads the tree
  applyHelpStyle(program as unknown as import("commander").Command);
  return program as unknown as Command;
}

/**
 * The top-level command `args` (argv without node and script) runs, when running it needs only its
 * own part of the tree; null when the whole tree is needed: no command, an option first, a help
 * request anywhere (help lists and checks the tree), `help`, `completion`/`complete` (they read
 * the tree), or a name the tree does not have (commander suggests a similar one).
 */
export function commandToRun(args: readonly string[]): string | null {
  const first = args[0];
  if (first === undefined || first.startsWith("-")) return null;
  if (args.includes("--help") || args.includes("-h")) return null;
  return TREE.some(([names]) => names.includes(first)) ? first : null;
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
  const program = buildProgram(commandToRun(argv.slice(2)) ?? undefined);
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
