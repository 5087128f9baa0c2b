/**
 * @module
 * `autosentry update` in the command tree: names, arguments, options and descriptions, loaded at
 * every start (the whole tree is built for help, completion and suggestions; only this part to run
 * one of its commands). Each action imports ../commands/update.ts, the implementation, only when
 * the command runs (issue 13; docs/architecture.md, "CLI").
 */
import type { Command } from "@commander-js/extra-typings";

/** Add the command(s) to `program`. */
export function register(program: Command): void {
  program
    .command("update")
    .description("update this autosentry binary to the latest release (or check, pin, roll back)")
    .option("--check", "only say whether a newer release exists (exit 0 even offline)")
    .option("--json", "print the check as JSON (implies --check)")
    .option("--version <version>", "install this version (a downgrade when older)")
    .option("--pre", "consider prereleases")
    .option("--file <path>", "install this archive or bare binary instead of downloading (offline)")
    .option(
      "--sha256 <hex>",
      "expected SHA-256 of --file or the download (default: the release's SHA256SUMS)",
    )
    .option("--no-verify", "install without a checksum match (not recommended)")
    .option(
      "--base-url <url>",
      "a release mirror: http(s) URL or directory (default: AUTOSENTRY_BASE_URL, else GitHub)",
    )
    .option("--no-cache", "ask the release source now instead of using the answer cached for a day")
    .option("--force", "reinstall even when that version is already installed")
    .option("--rollback", "swap back the binary the last update replaced")
    .action(async (opts) => (await import("../commands/update.ts")).updateCommand(opts));
}
