/**
 * @module
 * Compile one target and check the result. The compile flags are package.json's `build` script
 * (the one source of truth for how autosentry is built), plus the cross-compile runtime and the
 * two stamps of src/update/build-info.ts. A binary this machine can run (natively, with musl's
 * loader, or under qemu-user) must print exactly the release version; one it cannot run (darwin,
 * arm64 musl) gets a structural check: the right executable format and CPU, the right dynamic
 * loader, and our bundle inside. The check that was done is recorded in the manifest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { buildNative } from "../build-native.ts";
import { runnerFor, type Target } from "./targets.ts";

export const REPO = path.resolve(import.meta.dir, "../..");

/**
 * `bun build` arguments from package.json's build script (its last `&&` step; the first builds the
 * native capture helper, done per target in {@link compile}), without `--outfile`.
 */
export function buildFlags(): string[] {
  const words = (pkg.scripts.build.split("&&").at(-1) ?? "").trim().split(/\s+/);
  if (words[0] !== "bun" || words[1] !== "build")
    throw new Error(`package.json build script is not "bun build …"`);
  const out: string[] = [];
  for (let i = 2; i < words.length; i++) {
    if (words[i] === "--outfile") i++;
    else out.push(words[i]!);
  }
  return out;
}

/** Compile `target` against `runtime` into `outfile`. */
export function compile(target: Target, runtime: string, version: string, outfile: string): void {
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  // The native capture helper for this target, at the path the binary embeds it from (none for
  // darwin or without a cross compiler: that binary then uses the Bun shim; see build-native.ts).
  const noNative = buildNative(target.name);
  if (noNative !== null) process.stderr.write(`release: ${target.name}: ${noNative}\n`);
  const argv = [
    process.execPath,
    "build",
    ...buildFlags(),
    `--target=${target.bunTarget}`,
    `--compile-executable-path=${runtime}`,
    `--define=AUTOSENTRY_BUILD_VERSION=${JSON.stringify(version)}`,
    `--define=AUTOSENTRY_BUILD_TARGET=${JSON.stringify(target.name)}`,
    "--outfile",
    outfile,
  ];
  const r = Bun.spawnSync(argv, { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 || !fs.existsSync(outfile)) {
    throw new Error(
      `Cannot compile ${target.name}: bun build exited ${r.exitCode}: ${r.stderr.toString().trim()}`,
    );
  }
}

const ELF_MACHINE: Record<Target["arch"], number> = { x64: 62, arm64: 183 };
const MACHO_CPU: Record<Target["arch"], number> = { x64: 0x01000007, arm64: 0x0100000c };

/** The ELF program interpreter (PT_INTERP) of a 64-bit little-endian ELF file, or null. */
export function elfInterpreter(buf: Buffer): string | null {
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (buf.readUInt32LE(ph) !== 3) continue; // PT_INTERP
    const off = Number(buf.readBigUInt64LE(ph + 8));
    const size = Number(buf.readBigUInt64LE(ph + 32));
    return buf
      .subarray(off, off + size)
      .toString("latin1")
      .replace(/\0+$/, "");
  }
  return null;
}

/**
 * Check a built binary; returns how it was checked. Throws when the check fails. When the Bun
 * runtime itself cannot start here (e.g. Debian's musl package has no musl libstdc++, which Bun's
 * musl build links), the binary cannot either, and that says nothing about the build: it gets the
 * structural check instead.
 */
export function smokeTest(target: Target, bin: string, version: string, runtime: string): string {
  let runner = runnerFor(target);
  if ("prefix" in runner) {
    const probe = Bun.spawnSync([...runner.prefix, runtime, "--version"], { stdout: "pipe", stderr: "pipe" });
    if (probe.exitCode !== 0) {
      const why = probe.stderr.toString().trim().split("\n")[0] ?? "";
      runner = { reason: `the Bun runtime itself does not start here: ${why.slice(0, 120)}` };
    }
  }
  if ("prefix" in runner) {
    const r = Bun.spawnSync([...runner.prefix, bin, "--version"], { stdout: "pipe", stderr: "pipe" });
    const out = r.stdout.toString().trim();
    if (r.exitCode !== 0 || out !== version) {
      throw new Error(
        `${target.name}: \`${bin} --version\` printed "${out}" (exit ${r.exitCode}), expected "${version}": ${r.stderr.toString().trim()}`,
      );
    }
    return runner.prefix.length > 0
      ? `ran --version under ${path.basename(runner.prefix[0]!)}`
      : "ran --version";
  }
  const buf = fs.readFileSync(bin);
  const fail = (why: string): never => {
    throw new Error(`${target.name}: ${bin} ${why}`);
  };
  if (target.os === "linux") {
    if (buf.readUInt32BE(0) !== 0x7f454c46) fail("is not an ELF file");
    if (buf.readUInt16LE(0x12) !== ELF_MACHINE[target.arch]) fail(`is not an ${target.arch} ELF file`);
    const interp = elfInterpreter(buf) ?? "";
    const want = target.libc === "musl" ? "ld-musl-" : "ld-linux-";
    if (!interp.includes(want)) fail(`has the loader "${interp}", expected ${want}*`);
  } else {
    if (buf.readUInt32LE(0) !== 0xfeedfacf) fail("is not a 64-bit Mach-O file");
    if (buf.readUInt32LE(4) !== MACHO_CPU[target.arch]) fail(`is not an ${target.arch} Mach-O file`);
  }
  // The capture shim's usage line (src/supervisors/local/protocol.ts): proof our bundle is inside.
  if (buf.indexOf("usage: autosentry __shim") < 0) fail("does not contain the autosentry bundle");
  const what = target.os === "linux" ? "ELF format, CPU, loader" : "Mach-O format, CPU";
  return `not run (${runner.reason}); checked ${what} and embedded bundle`;
}
