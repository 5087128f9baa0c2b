/**
 * @module
 * `autosentry init`: placeholder registered by the skeleton; replaced by the real command.
 */
import type { Command } from "@commander-js/extra-typings";

export function register(program: Command): void {
  program
    .command("init")
    .description("(not built yet)")
    .action(() => {
      process.stderr.write("autosentry init: not built yet\n");
      process.exitCode = 1;
    });
}
