/**
 * @module
 * `autosentry update` (install a release) and `--rollback`: fetch, verify, smoke-test and swap in
 * (replace.ts does the file work). Messages say what failed and leave the installed binary as it
 * was; temporary files live next to the binary (dot-prefixed) and are removed on the way out.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseSums, previousPath, rollback, smokeTest, swapIn, unpack, verifySha256 } from "./replace.ts";
import { compareVersions, normalizeVersion } from "./semver.ts";
import type { ReleaseSource } from "./source.ts";

export interface ApplyOptions {
  /** The installed binary to replace (the running one). */
  exe: string;
  current: string;
  target: string;
  /** Needed unless `file`. */
  source: ReleaseSource | null;
  version: string | null;
  pre: boolean;
  file: string | null;
  sha256: string | null;
  verify: boolean;
  force: boolean;
  say: (line: string) => void;
}

function have(cmd: string): boolean {
  return Bun.which(cmd) !== null;
}

/** Throws unless the binary's directory can take new files. */
export function checkWritable(exe: string): void {
  const dir = path.dirname(exe);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new Error(
      `Cannot update ${exe}: ${dir} is not writable (reinstall elsewhere with install.sh --dir DIR)`,
    );
  }
}

/** Install a release (or `--file`) over `exe`; returns the line to print. */
export async function applyUpdate(o: ApplyOptions): Promise<string> {
  checkWritable(o.exe);
  const dir = path.dirname(o.exe);
  const stem = path.join(dir, `.autosentry-update-${process.pid}`);
  const temps: string[] = [];
  const temp = (suffix: string): string => {
    const f = `${stem}${suffix}`;
    temps.push(f);
    return f;
  };
  try {
    let archive: string;
    let name: string;
    let wantSha: string | null = o.sha256;
    let expect: string | null = null;
    if (o.file !== null) {
      archive = path.resolve(o.file);
      if (!fs.existsSync(archive)) throw new Error(`Cannot update from ${o.file}: no such file`);
      name = path.basename(archive);
      const sumsFile = path.join(path.dirname(archive), "SHA256SUMS");
      if (wantSha === null && fs.existsSync(sumsFile)) {
        wantSha = parseSums(fs.readFileSync(sumsFile, "utf8")).get(name) ?? null;
      }
    } else {
      const source = o.source!;
      const version = o.version !== null ? normalizeVersion(o.version) : await source.latest(o.pre);
      if (!o.force) {
        if (o.version === null && compareVersions(version, o.current) <= 0) {
          return `autosentry ${o.current} is up to date (latest ${o.pre ? "including prereleases " : ""}is ${version})`;
        }
        if (version === o.current) return `autosentry ${o.current} is already installed (--force reinstalls)`;
      }
      const sumsPath = temp(".SHA256SUMS");
      try {
        await source.download(version, "SHA256SUMS", sumsPath);
      } catch (err) {
        if (o.verify && wantSha === null) throw err;
      }
      const sums = fs.existsSync(sumsPath)
        ? parseSums(fs.readFileSync(sumsPath, "utf8"))
        : new Map<string, string>();
      name = `autosentry-${o.target}.tar.gz`;
      const xzName = `autosentry-${o.target}.tar.xz`;
      if (sums.has(xzName) && have("xz")) name = xzName;
      if (sums.size > 0 && !sums.has(name)) {
        throw new Error(
          `Release ${version} has no build for ${o.target} (set AUTOSENTRY_TARGET to pick another)`,
        );
      }
      wantSha ??= sums.get(name) ?? null;
      o.say(`downloading autosentry ${version} (${o.target}) from ${source.label}`);
      archive = temp(`.${name}`);
      await source.download(version, name, archive);
      expect = version;
    }
    if (o.verify) {
      if (wantSha === null) {
        throw new Error(
          `No checksum for ${name} (no SHA256SUMS entry): pass --sha256 HEX, or --no-verify to skip the check`,
        );
      }
      await verifySha256(archive, name, wantSha);
    }
    const fresh = temp(".new");
    await unpack(archive, name, fresh);
    const got = smokeTest(fresh);
    if (expect !== null && got !== expect) {
      throw new Error(`The new binary says it is ${got}, expected ${expect}; nothing was changed`);
    }
    if (fs.existsSync(o.exe) && Bun.spawnSync(["cmp", "-s", fresh, o.exe]).exitCode === 0) {
      return `autosentry ${got} is already installed at ${o.exe}`;
    }
    swapIn(fresh, o.exe);
    return (
      `autosentry updated ${o.current} -> ${got} (${o.exe}); the previous binary is ${previousPath(o.exe)} ` +
      "(autosentry update --rollback restores it). Running monitors keep their version until restarted."
    );
  } finally {
    for (const f of temps) fs.rmSync(f, { force: true });
  }
}

/** Swap the binary and `<exe>.previous`; returns the line to print. */
export function applyRollback(exe: string, current: string): string {
  checkWritable(exe);
  const prev = previousPath(exe);
  if (!fs.existsSync(prev)) throw new Error(`Nothing to roll back to: ${prev} does not exist`);
  const version = smokeTest(prev);
  rollback(exe);
  return `autosentry rolled back ${current} -> ${version} (${exe}); ${prev} now holds ${current} (--rollback again undoes this)`;
}
