/**
 * @module
 * The release targets: what each is called in release file names (and by install.sh), which npm
 * package holds its Bun runtime, and how (if at all) this build machine can run it for the smoke
 * test. Names follow install.sh's detection: `<os>-<arch>[-musl][-baseline]`; `baseline` is for x64
 * CPUs without AVX2 (Bun's default x64 build needs Haswell or newer, which many login nodes predate).
 */
import * as fs from "node:fs";

export interface Target {
  /** Release name: `linux-x64-baseline`. */
  name: string;
  /** npm package with the runtime (`@oven/bun-linux-aarch64`). */
  pkg: string;
  /** `bun build --target` value. */
  bunTarget: string;
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  libc: "glibc" | "musl" | null;
}

function t(name: string, npmSuffix: string): Target {
  const [os, arch] = name.split("-") as [Target["os"], Target["arch"]];
  return {
    name,
    pkg: `@oven/bun-${npmSuffix}`,
    bunTarget: `bun-${name}`,
    os,
    arch,
    libc: os === "darwin" ? null : name.includes("-musl") ? "musl" : "glibc",
  };
}

/** Every target a release builds, in the order they are built and listed. */
export const TARGETS: readonly Target[] = [
  t("linux-x64", "linux-x64"),
  t("linux-x64-baseline", "linux-x64-baseline"),
  t("linux-arm64", "linux-aarch64"),
  t("linux-x64-musl", "linux-x64-musl"),
  t("linux-x64-musl-baseline", "linux-x64-musl-baseline"),
  t("linux-arm64-musl", "linux-aarch64-musl"),
  t("darwin-x64", "darwin-x64"),
  t("darwin-arm64", "darwin-aarch64"),
];

/** The target called `name`; throws naming the known ones. */
export function targetByName(name: string): Target {
  const found = TARGETS.find((x) => x.name === name);
  if (found === undefined) {
    throw new Error(`Unknown target "${name}": expected one of ${TARGETS.map((x) => x.name).join(", ")}`);
  }
  return found;
}

/** How this machine can execute a binary of `target`: an argv prefix, or null (cannot, say why). */
export function runnerFor(target: Target): { prefix: string[] } | { reason: string } {
  const hostArch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : process.arch;
  if (process.platform !== target.os)
    return { reason: `${target.os} binaries cannot run on ${process.platform}` };
  const loader =
    target.libc === "musl"
      ? `/lib/ld-musl-${target.arch === "x64" ? "x86_64" : "aarch64"}.so.1`
      : `/lib/${target.arch === "x64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu"}`;
  if (target.arch === hostArch) {
    if (target.libc === "musl" && !fs.existsSync(loader)) {
      return { reason: `${loader} is missing (apt-get install musl)` };
    }
    return { prefix: [] };
  }
  if (target.arch === "arm64" && hostArch === "x64") {
    const qemu = ["/usr/bin/qemu-aarch64-static", "/usr/bin/qemu-aarch64"].find((p) => fs.existsSync(p));
    if (qemu === undefined) return { reason: "no qemu-aarch64 (apt-get install qemu-user-static)" };
    if (target.libc === "musl") {
      return { reason: "no aarch64 musl loader for qemu (Debian ships none outside multiarch)" };
    }
    const sysroot = "/usr/aarch64-linux-gnu";
    if (!fs.existsSync(`${sysroot}/lib/ld-linux-aarch64.so.1`)) {
      return { reason: `no aarch64 glibc for qemu (apt-get install libc6-arm64-cross)` };
    }
    return { prefix: [qemu, "-L", sysroot] };
  }
  return { reason: `${target.arch} binaries cannot run on ${hostArch}` };
}
