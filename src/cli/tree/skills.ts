/**
 * @module
 * `autosentry skills install|list` in the command tree: names, arguments, options and descriptions,
 * loaded at every start (the whole tree is built for help, completion and suggestions; only this
 * part to run one of its commands). Each action imports ../commands/skills.ts, the implementation,
 * only when the command runs (issue 13; docs/architecture.md, "CLI").
 */
import { type Command, Option } from "@commander-js/extra-typings";
import { TOOLS } from "../../skills/catalog.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const skills = program.command("skills").description("Install autosentry's instructions for coding agents");
  skills
    .command("install")
    .description("Write the /autosentry skills for coding agents (merging, never overwriting your files)")
    .option("-t, --tool <tool...>", `Which agents: ${TOOLS.join(", ")} or all (default: all)`)
    .option("-s, --skill <skill>", "Which skill: autosentry, init, update or all", "autosentry")
    .addOption(
      new Option("--scope <scope>", "local (this project) or global (your home)")
        .choices(["local", "global"] as const)
        .default("local" as const),
    )
    .option("--target <dir>", "project directory for --scope local", ".")
    .option("--force", "add our block to a command file of the same name that you wrote")
    .option("--json", "print the results as JSON")
    .action(async (opts) => (await import("../commands/skills.ts")).skillsInstallCommand(opts));
  skills
    .command("list")
    .description("Show every tool and skill with its local and global place and what is there now")
    .option("--target <dir>", "project directory", ".")
    .option("--json", "print JSON")
    .action(async (opts) => (await import("../commands/skills.ts")).skillsListCommand(opts));
}
