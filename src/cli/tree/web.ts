/**
 * @module
 * `autosentry web` in the command tree: names, arguments, options and descriptions, loaded at every
 * start (the whole tree is built for help, completion and suggestions; only this part to run one of
 * its commands). Each action imports ../commands/web.ts, the implementation, only when the command
 * runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";
import { addConfigOption } from "./config-flag.ts";
import { pollInterval, port } from "./parsers.ts";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  const cmd = program
    .command("web")
    .description("serve the incidents, events, attempts and live state in a browser (from this binary)")
    .option("--host <address>", "address to bind; any non-loopback address requires a token", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", port, 8765)
    .option("--root <dir>", "show every project under DIR that has a .autosentry/ folder, side by side")
    .option("--new-token", "make a new access token, print it once and store it (mode 0600)")
    .option(
      "--token-file <path>",
      "where the token is kept (default .autosentry/web-token, or DIR/.autosentry-web-token)",
    )
    .option("--poll-ms <ms>", "how often the files are checked for changes", pollInterval, 500);
  addConfigOption(cmd).action(async (opts) => (await import("../commands/web.ts")).webCommand(opts));
}
