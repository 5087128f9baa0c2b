/**
 * @module
 * Replacing the running binary without ever writing into it. Linux refuses to open a file that a
 * process executes for writing (ETXTBSY), and writing into it in place would corrupt every monitor
 * running from it anyway. So the new binary is written *next to* the old one (same directory, same
 * filesystem), checked (SHA-256 against the release's SHA256SUMS or `--sha256`, then run with
 * `--version`), and renamed over the old path: one rename(2), atomic. Running processes keep their
 * image (the old inode lives on); the old binary also stays on disk, hard-linked as
 * `<binary>.previous`, which `--rollback` swaps back (byte for byte: nothing is ever rewritten).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256Hex } from "./sha256.ts";

/** Parse SHA256SUMS text (`<hex>  <name>` or `<hex> *<name>`) into name → lowercase hex. */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) out.set(m[2]!, m[1]!.toLowerCase());
  }
  return out;
}

/** Throws unless `file` has the SHA-256 `want`. */
export async function verifySha256(file: string, name: string, want: string): Promise<void> {
  const got = await sha256Hex(file);
  if (got !== want.toLowerCase()) {
    throw new Error(
      `Checksum mismatch for ${name}: expected ${want.toLowerCase()}, got ${got} (corrupt or truncated; nothing was changed)`,
    );
  }
}

/** Extract the `autosentry` member of `archive` (tar.gz / tar.xz; anything else is the bare binary) to `dest`. */
export async function unpack(archive: string, name: string, dest: string): Promise<void> {
  const fd = fs.openSync(dest, "w", 0o700);
  try {
    if (!/\.(tar\.gz|tgz|tar\.xz|txz)$/.test(name)) {
      fs.copyFileSync(archive, dest);
      return;
    }
    const decompress = /xz$/.test(name) ? ["xz", "-dc", archive] : ["gzip", "-dc", archive];
    let dec: Bun.Subprocess<"ignore", "pipe", "pipe">;
    try {
      dec = Bun.spawn(decompress, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    } catch {
      throw new Error(`Cannot unpack ${name}: ${decompress[0]} is not installed`);
    }
    const tar = Bun.spawn(["tar", "-xOf", "-", "autosentry"], {
      stdin: dec.stdout,
      stdout: fd,
      stderr: "pipe",
    });
    const [a, b] = await Promise.all([dec.exited, tar.exited]);
    if (a !== 0 || b !== 0) {
      const err = (await new Response(dec.stderr).text()) || (await new Response(tar.stderr).text());
      throw new Error(
        `Cannot unpack ${name}: damaged or truncated archive (${err.trim().split("\n")[0]}); nothing was changed`,
      );
    }
  } finally {
    try {
      fs.closeSync(fd);
    } catch {}
  }
  if (fs.statSync(dest).size === 0) throw new Error(`Cannot unpack ${name}: no autosentry binary inside`);
}

/** Run `bin --version`; the version it prints. Throws when it does not run. */
export function smokeTest(bin: string): string {
  fs.chmodSync(bin, 0o755);
  const r = Bun.spawnSync([bin, "--version"], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const out = r.stdout.toString().trim().split("\n")[0] ?? "";
  if (r.exitCode !== 0 || out === "") {
    const err = r.stderr.toString().trim().split("\n")[0] ?? "";
    throw new Error(
      `The new binary does not run on this machine (exit ${r.exitCode ?? r.signalCode}${err ? `: ${err}` : ""}); nothing was changed`,
    );
  }
  return out;
}

/** `<exe>.previous`: where the replaced binary is kept. */
export function previousPath(exe: string): string {
  return `${exe}.previous`;
}

/** Make `dest` another name of `src` (a hard link; a copy where links are not possible), atomically. */
function linkOrCopy(src: string, dest: string): void {
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.tmp`);
  fs.rmSync(tmp, { force: true });
  try {
    fs.linkSync(src, tmp);
  } catch {
    fs.copyFileSync(src, tmp);
  }
  fs.renameSync(tmp, dest);
}

/** Keep `exe` as `<exe>.previous`, then rename `fresh` over `exe`. Never opens `exe` for writing. */
export function swapIn(fresh: string, exe: string): void {
  if (fs.existsSync(exe)) linkOrCopy(exe, previousPath(exe));
  fs.renameSync(fresh, exe);
}

/** Swap `exe` and `<exe>.previous` (so a second rollback undoes the first). */
export function rollback(exe: string): void {
  const prev = previousPath(exe);
  if (!fs.existsSync(prev)) throw new Error(`Nothing to roll back to: ${prev} does not exist`);
  const hold = path.join(path.dirname(exe), `.${path.basename(exe)}.rollback.${process.pid}`);
  fs.rmSync(hold, { force: true });
  try {
    fs.linkSync(exe, hold);
  } catch {
    fs.copyFileSync(exe, hold);
  }
  try {
    fs.renameSync(prev, exe);
  } catch (err) {
    fs.rmSync(hold, { force: true });
    throw err;
  }
  fs.renameSync(hold, prev);
}
