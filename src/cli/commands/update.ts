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

/** `update`'s options. */
interface UpdateCliOptions {
  check?: boolean | undefined;
  json?: boolean | undefined;
  version?: string | undefined;
  pre?: boolean | undefined;
  file?: string | undefined;
  sha256?: string | undefined;
  verify: boolean;
  baseUrl?: string | undefined;
  cache: boolean;
  force?: boolean | undefined;
  rollback?: boolean | undefined;
}

/** What `autosentry update` does (its options are declared in src/cli/tree/update.ts). */
export async function updateCommand(opts: UpdateCliOptions): Promise<void> {
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
    throw new CliExit(EXIT.failure, `autosentry update: ${err instanceof Error ? err.message : String(err)}`);
  }
}
