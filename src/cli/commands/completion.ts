/**
 * @module
 * `autosentry completion bash|zsh|fish|powershell`: prints a shell completion script, built by
 * @bomb.sh/tab from the command tree (subcommands, options and their choices). The script calls
 * back `autosentry complete -- <words>` (a hidden command) for each completion, so completions
 * always match the installed version. Install, e.g. for bash:
 * `autosentry completion bash > ~/.local/share/bash-completion/completions/autosentry`
 * (the bash script needs the bash-completion package for `_get_comp_words_by_ref`).
 *
 * Register it last: tab reads the tree as it is when called.
 */

import tab from "@bomb.sh/tab/commander";
import type { Command } from "@commander-js/extra-typings";

export function register(program: Command): void {
  // extra-typings' Command is the same object with richer types (bun-stack.md §4).
  tab(program as unknown as import("commander").Command, { completionCommandName: "completion" });
}
