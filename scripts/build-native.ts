/**
 * @module
 * Build the native capture helper (src/supervisors/local/native/capture.c) for one target, into the
 * path the compiled binary embeds it from (dist/native/capture, see
 * src/supervisors/local/capture-impl.ts). `npm run build` runs this before `bun build --compile`;
 * scripts/release/build.ts runs it per release target.
 *
 * ```
 * bun scripts/build-native.ts [--target linux-x64|linux-arm64|…] [--out FILE]
 * ```
 * Linux x64 targets: `gcc -static` for plain x86-64 (so one file runs on glibc and musl systems and
 * on CPUs without AVX2). Linux arm64: `aarch64-linux-gnu-gcc -static` (Debian package
 * gcc-aarch64-linux-gnu). Where no compiler is installed, or for darwin, no helper is built (the
 * file is removed) and the binary uses the Bun capture shim instead: the build never fails for it.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(import.meta.dir, "..");
export const NATIVE_SOURCE = path.join(REPO, "src/supervisors/local/native/capture.c");
/** Where the compiled binary embeds the helper from (a static import path in capture-impl.ts). */
export const NATIVE_OUT = path.join(REPO, "dist/native/capture");

/** The host's target name in release terms (linux-x64, linux-arm64, darwin-…). */
export function hostTarget(): string {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  return `${process.platform}-${arch}`;
}

function which(cmd: string): string | null {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(":")) {
    const p = path.join(dir || ".", cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** The compiler command for `target`, or a reason why there is none. */
export function compilerFor(target: string): { argv: string[] } | { reason: string } {
  if (!target.startsWith("linux-")) return { reason: `no native capture helper for ${target}` };
  const arm = target.startsWith("linux-arm64");
  const hostArm = process.arch === "arm64";
  if (process.platform !== "linux") return { reason: "native helpers are built on Linux only" };
  const cc = arm === hostArm ? "gcc" : arm ? "aarch64-linux-gnu-gcc" : "x86_64-linux-gnu-gcc";
  if (which(cc) === null) {
    const pkg = arm ? "gcc-aarch64-linux-gnu" : "gcc";
    return { reason: `${cc} is not installed (apt-get install ${pkg})` };
  }
  const cpu = arm ? ["-march=armv8-a"] : ["-march=x86-64", "-mtune=generic"];
  return { argv: [cc, "-static", "-O2", "-s", ...cpu, "-Wall", "-Wextra"] };
}

/**
 * Build the helper for `target` into `out`. Returns null when built, else why not (and `out` is
 * removed, so a stale helper of another target is never embedded). Throws when the compiler fails:
 * a compiler that is there but rejects our source is a bug, not a missing tool.
 */
export function buildNative(target: string, out: string = NATIVE_OUT): string | null {
  const cc = compilerFor(target);
  if ("reason" in cc) {
    fs.rmSync(out, { force: true });
    return cc.reason;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const r = Bun.spawnSync([...cc.argv, "-o", tmp, NATIVE_SOURCE], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`Cannot build the native capture helper for ${target}: ${r.stderr.toString().trim()}`);
  }
  fs.renameSync(tmp, out);
  return null;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const target = opt("--target") ?? hostTarget();
  const out = path.resolve(opt("--out") ?? NATIVE_OUT);
  try {
    const why = buildNative(target, out);
    if (why === null)
      process.stderr.write(`build-native: ${target} capture helper -> ${path.relative(REPO, out)}\n`);
    else process.stderr.write(`build-native: no native capture helper (${why}); the Bun shim is used\n`);
  } catch (err) {
    process.stderr.write(`build-native: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
