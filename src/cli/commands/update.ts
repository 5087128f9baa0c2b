/**
 * @module
 * `autosentry update`: replace this binary with a newer release, safely (src/update/).
 *
 * ```
 * autosentry update                  install the latest release (no-op when up to date)
 * autosentry update --check          say whether a newer release exists (exit 0, also offline)
 * autosentry update --json           the same as JSON: {"current","latest","is_outdated",...}
 * autosentry update --version 0.3.1  install that version (also older: a pinned downgrade)
 * autosentry update --pre            consider prereleases
 * autosentry update --file PATH      install an archive or bare binary already on this machine
 * autosentry update --base-url URL   use a mirror (http(s) URL or directory) instead of GitHub
 * autosentry update --no-cache       ask the source now instead of the answer cached for a day
 * autosentry update --rollback       swap back the binary the last update replaced
 * ```
 * Only `--check`/`--json` work from source (`bun main.ts`): there is no single binary to replace.
 */
import * as fs from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import { applyRollback, applyUpdate } from "../../update/apply.ts";
import { type CheckReport, checkForUpdate } from "../../update/check.ts";
import { selectSource } from "../../update/source.ts";
import { currentTarget } from "../../update/target.ts";
import { isCompiled } from "../../util/self-command.ts";
import { CliExit, EXIT } from "../exit.ts";
import { VERSION } from "../version.ts";

function checkLine(r: CheckReport): string {
  if (r.latest === null)
    return `Cannot check for updates: ${r.error ?? "unknown error"} (autosentry ${r.current})`;
  if (r.is_outdated)
    return `autosentry ${r.latest} is available (you have ${r.current}): run \`autosentry update\``;
  return `autosentry ${r.current} is up to date (latest ${r.channel === "pre" ? "including prereleases " : ""}is ${r.latest})`;
}

/** The installed binary to replace: the running executable, symlinks resolved. */
function installedExe(): string {
  if (!isCompiled()) {
    throw new CliExit(
      EXIT.failure,
      "Cannot update: this autosentry runs from source (bun main.ts); install a release with install.sh or rebuild with npm run build",
    );
  }
  return fs.realpathSync(process.execPath);
}

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
    .action(async (opts) => {
      const target = currentTarget();
      if (opts.check || opts.json) {
        const report = await checkForUpdate({
          source: selectSource(opts.baseUrl),
          current: VERSION,
          target,
          pre: opts.pre === true,
          useCache: opts.cache,
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${checkLine(report)}\n`);
        return;
      }
      if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) {
        throw new CliExit(EXIT.usage, `update: --sha256 must be 64 hex digits, got "${opts.sha256}"`);
      }
      const exe = installedExe();
      try {
        if (opts.rollback) {
          process.stdout.write(`${applyRollback(exe, VERSION)}\n`);
          return;
        }
        const line = await applyUpdate({
          exe,
          current: VERSION,
          target,
          source: opts.file ? null : selectSource(opts.baseUrl),
          version: opts.version ?? null,
          pre: opts.pre === true,
          file: opts.file ?? null,
          sha256: opts.sha256?.toLowerCase() ?? null,
          verify: opts.verify,
          force: opts.force === true,
          say: (s) => process.stderr.write(`${s}\n`),
        });
        process.stdout.write(`${line}\n`);
      } catch (err) {
        if (err instanceof CliExit) throw err;
        throw new CliExit(
          EXIT.failure,
          `autosentry update: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    });
}
