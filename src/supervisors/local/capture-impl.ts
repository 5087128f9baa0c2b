/**
 * @module
 * Which capture process the local supervisor starts: the native helper (native/capture.c, a static
 * C program of well under 1 MB resident) where this build embeds one for the platform and it runs
 * here, else the Bun shim (shim.ts, a second Bun runtime of ~40 MB). Both take the same arguments
 * (`__shim --serve …`) and speak the same protocol (protocol.ts), so the monitor, re-adoption and
 * the orphan search (LocalSupervisor.reapOrphans) treat them alike (issue 13: the monitor and its
 * capture process together must not need more memory than PM2's daemon).
 *
 * The helper is embedded by `bun build --compile` (a file import, below) and written out on first
 * use to `capture-<version>-<sha256 prefix>` in the first directory where it can be written and
 * executed: the user's cache directory (`$XDG_CACHE_HOME/autosentry`, else `~/.cache/autosentry`),
 * then the project's run directory. The file is written atomically with mode 0755, and a copy that
 * is already there is trusted only when it is ours, writable by nobody else, and its content hashes
 * to the embedded helper's hash. Before it is used it must answer `__probe` (a noexec mount, a wrong
 * CPU or a seccomp policy fail there), once per monitor process.
 *
 * The Bun shim is used, and why is said once in the monitor's log and in `doctor`, when: the
 * platform is not Linux (no helper is built for darwin), the build machine had no C compiler for the
 * target (scripts/build-native.ts), no directory could hold an executable copy, or
 * `AUTOSENTRY_CAPTURE=bun` asks for it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { VERSION } from "../../cli/version.ts";
import { selfImageCommand } from "../../util/self-command.ts";

export type CaptureImpl =
  | { kind: "native"; command: string[]; path: string }
  | { kind: "bun"; command: string[]; reason: string };

/** What the helper prints for `__probe` (native/capture.c PROTOCOL). */
const PROBE_ANSWER = "autosentry-capture 1\n";

/** Where the compiled binary holds the helper (null when this build has none). */
export async function embeddedHelper(): Promise<string | null> {
  try {
    // Static path: `bun build --compile` embeds the file (scripts/build-native.ts writes it). A
    // build without it still compiles: the import then fails here, at run time, and is caught.
    const mod = (await import("../../../dist/native/capture", { with: { type: "file" } })) as {
      default: string;
    };
    return mod.default;
  } catch {
    return null;
  }
}

/** The directories tried for the executable copy, in order. */
export function helperDirs(runDir: string): string[] {
  const cache = process.env["XDG_CACHE_HOME"] || path.join(os.homedir(), ".cache");
  return [path.join(cache, "autosentry"), path.resolve(runDir)];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** Does the file at `file` answer the probe? null when it does, else why not. */
function probe(file: string): string | null {
  try {
    const r = Bun.spawnSync([file, "__probe"], { stdout: "pipe", stderr: "pipe", env: {}, timeout: 10_000 });
    if (r.exitCode === 0 && r.stdout.toString() === PROBE_ANSWER) return null;
    return `${file} __probe exited ${r.exitCode ?? r.signalCode}${r.stderr.length ? `: ${r.stderr.toString().trim().slice(0, 200)}` : ""}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === "EACCES" ? " (a noexec filesystem?)" : "";
    return `cannot execute ${file}: ${message(err)}${hint}`;
  }
}

/** An executable copy of `bytes` (hash `hash`) in `dir`, or why there is none. */
function installIn(
  dir: string,
  name: string,
  bytes: Uint8Array,
  hash: string,
): { path: string } | { reason: string } {
  const target = path.join(dir, name);
  try {
    let trusted = false;
    try {
      const st = fs.lstatSync(target);
      // Ours, writable by nobody else, executable, and the embedded bytes (a shared project's run
      // directory may hold another user's copy: that one is replaced by our own).
      trusted =
        st.isFile() &&
        st.uid === process.getuid?.() &&
        (st.mode & 0o022) === 0 &&
        st.size === bytes.length &&
        (st.mode & 0o111) !== 0 &&
        sha256(fs.readFileSync(target)) === hash;
    } catch {}
    if (!trusted) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      const tmp = path.join(dir, `.${name}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
      const c = fs.constants;
      const fd = fs.openSync(tmp, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, 0o755);
      try {
        try {
          fs.writeSync(fd, bytes);
          fs.fchmodSync(fd, 0o755); // whatever the umask
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(tmp, target);
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
      }
    }
  } catch (err) {
    return { reason: `cannot write ${target}: ${message(err)}` };
  }
  const why = probe(target);
  return why === null ? { path: target } : { reason: why };
}

export interface ResolveOptions {
  /** The project's run directory (the second place for the executable copy). */
  runDir: string;
  /** The helper to install (default: the one embedded in this build). */
  source?: string | null;
  /** Override the directories tried (tests). */
  dirs?: string[];
}

/** Decide which capture process to start (see the module comment). */
export async function resolveCapture(o: ResolveOptions): Promise<CaptureImpl> {
  const bun = (reason: string): CaptureImpl => ({ kind: "bun", command: selfImageCommand(), reason });
  const choice = process.env["AUTOSENTRY_CAPTURE"];
  if (choice === "bun") return bun("AUTOSENTRY_CAPTURE=bun");
  if (process.platform !== "linux") return bun(`no native capture helper for ${process.platform}`);
  const source = o.source === undefined ? await embeddedHelper() : o.source;
  let bytes: Uint8Array | null = null;
  if (source !== null) {
    try {
      bytes = await Bun.file(source).bytes();
    } catch {}
  }
  if (bytes === null || bytes.length === 0) {
    return bun(
      `this build has no native capture helper for linux-${process.arch} (built without a C compiler)`,
    );
  }
  const hash = sha256(bytes);
  const name = `capture-${VERSION}-${hash.slice(0, 16)}`;
  const reasons: string[] = [];
  for (const dir of o.dirs ?? helperDirs(o.runDir)) {
    const r = installIn(dir, name, bytes, hash);
    if ("path" in r) return { kind: "native", command: [r.path], path: r.path };
    reasons.push(r.reason);
  }
  return bun(reasons.join("; "));
}

const resolved = new Map<string, Promise<CaptureImpl>>();

/**
 * {@link resolveCapture}, once per run directory per process (the probe runs once). A native copy
 * that vanished since (someone cleared ~/.cache) is written out and probed again.
 */
export async function captureFor(runDir: string): Promise<CaptureImpl> {
  const key = path.resolve(runDir);
  let p = resolved.get(key);
  if (p !== undefined) {
    const c = await p;
    if (c.kind === "native" && !fs.existsSync(c.path)) p = undefined;
  }
  if (p === undefined) {
    p = resolveCapture({ runDir });
    resolved.set(key, p);
  }
  return p;
}

/** One line for logs and `doctor`. */
export function describeCapture(c: CaptureImpl): string {
  return c.kind === "native" ? `native helper (${c.path})` : `Bun shim (${c.reason})`;
}
