/**
 * @module
 * Which release target this machine (and this binary) is: the same names and the same rules as
 * install.sh (`<os>-<arch>[-musl][-baseline]`). A release build knows its own target (stamped, see
 * build-info.ts) and keeps it: an update must not swap a baseline build for an AVX2 one because the
 * job moved, nor a musl build for a glibc one. Otherwise it is detected: AVX2 from /proc/cpuinfo,
 * musl from the dynamic loader of the running binary. AUTOSENTRY_TARGET overrides everything (tests,
 * odd machines), as it does for install.sh.
 */
import * as fs from "node:fs";
import { BUILD_TARGET } from "./build-info.ts";

/** Detect the target of this machine; `cpuinfo` is a /proc/cpuinfo path (AUTOSENTRY_CPUINFO). */
export function detectTarget(env: NodeJS.ProcessEnv = process.env): string {
  const os = process.platform === "darwin" ? "darwin" : "linux";
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  if (os === "darwin") return `${os}-${arch}`;
  const libc = env.AUTOSENTRY_LIBC ?? (isMusl() ? "musl" : "glibc");
  let target = `${os}-${arch}${libc === "musl" ? "-musl" : ""}`;
  if (arch === "x64") {
    let flags = "";
    try {
      flags = fs.readFileSync(env.AUTOSENTRY_CPUINFO ?? "/proc/cpuinfo", "utf8");
    } catch {}
    if (!/\bavx2\b/.test(flags)) target += "-baseline";
  }
  return target;
}

function isMusl(): boolean {
  try {
    // The running binary's ELF interpreter names its libc (/lib/ld-musl-x86_64.so.1).
    const fd = fs.openSync("/proc/self/exe", "r");
    const buf = Buffer.alloc(4096);
    try {
      fs.readSync(fd, buf, 0, buf.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    return buf.toString("latin1").includes("ld-musl-");
  } catch {
    return false;
  }
}

/** The target to update to: AUTOSENTRY_TARGET, else this build's stamp, else detected. */
export function currentTarget(env: NodeJS.ProcessEnv = process.env): string {
  return env.AUTOSENTRY_TARGET || BUILD_TARGET || detectTarget(env);
}
