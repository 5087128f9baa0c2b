/**
 * @module
 * The release directory the installer and updater tests serve: real binaries of this tree built by
 * `scripts/release.ts` (the Bun runtimes come from the npm registry into the runtime cache on first
 * use), stamped as three versions so that "latest", "pinned", "prerelease" and "older" all exist:
 *
 * | version | targets |
 * |---|---|
 * | 1.0.0 | linux-x64, linux-x64-baseline (the host's arch on arm64 hosts) |
 * | 1.1.0 | the same, plus linux-arm64 (cross-built; the qemu test runs it) on x64 hosts |
 * | 1.2.0-rc.1 | linux-x64 |
 *
 * Building takes about a minute, so the result is kept in the temp dir under a hash of everything
 * that goes into the binary and reused by later test files and runs (a changed source is a new hash).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "./helpers.ts";

export const OLD = "1.0.0";
export const NEW = "1.1.0";
export const PRE = "1.2.0-rc.1";

const HOST = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
/** Targets this machine runs natively, built for OLD and NEW. */
export const HOST_TARGETS = HOST === "linux-x64" ? ["linux-x64", "linux-x64-baseline"] : ["linux-arm64"];
/** A cross-built target (runs under qemu-user), built for NEW; null on arm64 hosts. */
export const CROSS_TARGET: string | null = HOST === "linux-x64" ? "linux-arm64" : null;

function sourceKey(): string {
  const h = new Bun.CryptoHasher("sha256");
  const globs = [
    "main.ts",
    "package.json",
    "install.sh",
    "update.sh",
    "scripts/release.ts",
    "scripts/release/*.ts",
  ];
  for (const dir of ["src", "templates", "grammars", "types"]) globs.push(`${dir}/**/*`);
  const files = new Set<string>();
  for (const g of globs)
    for (const f of new Bun.Glob(g).scanSync({ cwd: REPO, onlyFiles: true })) files.add(f);
  for (const f of [...files].sort()) {
    if (f.endsWith(".test.ts")) continue;
    h.update(f);
    h.update(fs.readFileSync(path.join(REPO, f)));
  }
  h.update(Bun.version + Bun.revision);
  return h.digest("hex").slice(0, 16);
}

function release(out: string, version: string, targets: string[]): void {
  const r = Bun.spawnSync(
    [
      process.execPath,
      path.join(REPO, "scripts", "release.ts"),
      "--out",
      out,
      "--version",
      version,
      "--targets",
      targets.join(","),
      "--formats",
      "tar.gz",
      "--gzip-level",
      "1",
    ],
    { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env, AUTOSENTRY_DEBUG: "1" } },
  );
  if (r.exitCode !== 0) {
    throw new Error(
      `release ${version} failed (exit ${r.exitCode}): ${r.stderr.toString().trim().slice(-2000)}`,
    );
  }
}

let cached: string | null = null;

/** The release directory (a mirror layout), built once per source tree. */
export function releaseFixture(): string {
  if (cached) return cached;
  const root = os.tmpdir();
  const final = path.join(root, `autosentry-release-fixture-${sourceKey()}`);
  if (!fs.existsSync(path.join(final, "latest-pre"))) {
    const tmp = `${final}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    release(tmp, OLD, HOST_TARGETS);
    release(tmp, NEW, CROSS_TARGET ? [...HOST_TARGETS, CROSS_TARGET] : HOST_TARGETS);
    release(tmp, PRE, [HOST]);
    try {
      fs.renameSync(tmp, final);
    } catch {
      // Another test process finished first: use its copy.
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    // Fixtures of older source trees are dead weight (hundreds of MB each).
    for (const name of fs.readdirSync(root)) {
      const p = path.join(root, name);
      if (!name.startsWith("autosentry-release-fixture-") || p === final) continue;
      try {
        if (Date.now() - fs.statSync(p).mtimeMs > 3600_000) fs.rmSync(p, { recursive: true, force: true });
      } catch {}
    }
  }
  cached = final;
  return final;
}

/** A cpuinfo file with (or without) the avx2 flag, for AUTOSENTRY_CPUINFO. */
export function cpuinfo(dir: string, avx2: boolean): string {
  const file = path.join(dir, avx2 ? "cpuinfo-avx2" : "cpuinfo-old");
  const flags = `fpu vme de pse tsc msr pae mce cx8 apic sep mtrr sse sse2 ssse3 sse4_1 sse4_2 popcnt avx${avx2 ? " avx2 bmi2" : ""}`;
  fs.writeFileSync(
    file,
    `processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\nflags\t\t: ${flags}\n\n`,
  );
  return file;
}

/** SHA-256 (hex) of a file. */
export function sha256(file: string): string {
  return new Bun.CryptoHasher("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The `autosentry` binary inside a release archive, extracted to `dest`. */
export function extract(archive: string, dest: string): string {
  fs.mkdirSync(dest, { recursive: true });
  const r = Bun.spawnSync(["tar", "-xzf", archive, "-C", dest, "autosentry"], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`cannot extract ${archive}: ${r.stderr.toString()}`);
  return path.join(dest, "autosentry");
}
