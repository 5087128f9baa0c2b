/**
 * @module
 * `autosentry config schema|validate|show` in the command tree: names, arguments, options and
 * descriptions, loaded at every start (the whole tree is built for help, completion and
 * suggestions; only this part to run one of its commands). Each action imports
 * ../commands/config.ts, the implementation, only when the command runs (issue 13;
 * docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const config = program.command("config").description("Inspect and check the configuration");

  config
    .command("schema")
    .description("Print the JSON Schema of .autosentry/autosentry.yaml")
    .action(async () => (await import("../commands/config.ts")).configSchemaCommand());

  addConfigOption(
    config.command("validate").description("Check the config file; errors come with file:line:col"),
  ).action(async (opts) => (await import("../commands/config.ts")).configValidateCommand(opts));

  addConfigOption(
    config.command("show").description("Print the effective config: defaults filled in, paths absolute"),
  )
    .option("--json", "print JSON instead of YAML")
    .action(async (opts) => (await import("../commands/config.ts")).configShowCommand(opts));
}
