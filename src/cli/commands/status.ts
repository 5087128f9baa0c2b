/**
 * @module
 * `autosentry status`: placeholder registered by the skeleton; replaced by the real command.
 */
import type { Command } from "@commander-js/extra-typings";

export function register(program: Command): void {
  program
    .command("status")
    .description("(not built yet)")
    .action(() => {
      process.stderr.write("autosentry status: not built yet\n");
      process.exitCode = 1;
    });
}
