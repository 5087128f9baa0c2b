/**
 * @module
 * How to run this program again (the capture shim, background helpers).
 *
 * In the compiled binary the entry point lives in Bun's embedded filesystem (`/$bunfs/root/…`) and
 * `process.execPath` is the binary itself, so `[execPath]` re-invokes it. Under `bun main.ts`,
 * `process.execPath` is bun and main.ts has to be named; `Bun.main` cannot be used for that because
 * under `bun test` it is the test file. `--no-env-file` keeps bun from loading a `.env` from the
 * working directory into a process whose environment must be exactly what the monitor passed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** True when running as the `bun build --compile` executable. */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || import.meta.path.startsWith("/$bunfs/");
}

/** Absolute path of main.ts when running from source. */
export function sourceEntry(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../main.ts");
}

/** argv prefix that runs this program again; append its arguments (`__shim …`, a command). */
export function selfCommand(): string[] {
  if (isCompiled()) return [process.execPath];
  return [process.execPath, "--no-env-file", sourceEntry()];
}

/**
 * Like {@link selfCommand}, but runs the *image* this process was started from, not whatever the
 * path on disk holds now. `autosentry update` renames a new binary over the old path while a
 * monitor may be running from it; a capture shim the monitor starts afterwards must be the same
 * build as the monitor, or the two could disagree on the shim protocol (protocol.ts). On Linux,
 * `/proc/self/exe` keeps pointing at the running image after the path was replaced (and even after
 * it was deleted), so the shim is exec'd through it. We chose this over versioning the protocol:
 * it needs no compatibility code and no version negotiation, and it rules out a mismatch rather
 * than detecting one. Elsewhere (no /proc) it falls back to the path. Use
 * `argv0: process.execPath` when spawning so `ps` still shows the binary's name.
 */
export function selfImageCommand(): string[] {
  if (isCompiled() && process.platform === "linux" && fs.existsSync("/proc/self/exe")) {
    return ["/proc/self/exe"];
  }
  return selfCommand();
}
