/**
 * @module
 * `autosentry install-service|uninstall-service` in the command tree: names, arguments, options and
 * descriptions, loaded at every start (the whole tree is built for help, completion and
 * suggestions; only this part to run one of its commands). Each action imports
 * ../commands/service.ts, the implementation, only when the command runs (issue 13;
 * docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  addConfigOption(
    program
      .command("install-service")
      .description(
        "Run this project's monitor as a systemd user service (started at login, restarted if killed)",
      )
      .option("--print", "print the unit file and change nothing")
      .option("--no-enable", "only write the unit file; do not call systemctl"),
  ).action(async (opts) => (await import("../commands/service.ts")).installServiceCommand(opts));
  addConfigOption(
    program.command("uninstall-service").description("Stop and remove this project's systemd user service"),
  ).action(async (opts) => (await import("../commands/service.ts")).uninstallServiceCommand(opts));
}
