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
 * CPU or a seccomp policy fail there), once per monitor process. Writing a new copy prunes the
 * other builds' copies in that directory ({@link pruneCopies}), so updates do not pile up ~0.85 MB
 * files in the cache.
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

/** A copy of some build's helper: `capture-<version>-<sha256 prefix>`. */
const COPY_NAME = /^capture-.+-[0-9a-f]{16}$/;
/** A copy being written (see {@link installIn}): `.<name>.tmp-<pid>-<random>`. */
const TMP_NAME = /^\.capture-.+-[0-9a-f]{16}\.tmp-(\d+)-[0-9a-z]*$/;
/**
 * A copy written or chosen this recently is left alone: another build's monitor may be about to
 * start it (captureFor touches the copy each time it hands it out).
 */
export const PRUNE_GRACE_MS = 10 * 60_000;

/** The files running processes execute (their /proc/<pid>/exe), as far as we may read them. */
function executedFiles(): Set<string> {
  const out = new Set<string>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync("/proc");
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (pid.charCodeAt(0) < 48 || pid.charCodeAt(0) > 57) continue;
    try {
      out.add(fs.readlinkSync(`/proc/${pid}/exe`));
    } catch {}
  }
  return out;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the other builds' copies of the helper from `dir` (all but `keep`), and temp files of
 * writers that died. Left alone: a copy a running process executes (unlinking would not harm it on
 * Linux, it keeps its inode, but its monitor is alive and likely to start it again), and one
 * changed within {@link PRUNE_GRACE_MS} (another version's monitor may be about to start it). A copy
 * removed anyway between another monitor choosing it and starting it costs that monitor a fresh
 * extraction: captureFor writes a vanished copy out again, and the local supervisor retries a start
 * that failed because its copy was gone. Never throws; returns the names removed.
 */
export function pruneCopies(dir: string, keep: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  let running: Set<string> | null = null;
  const uid = process.getuid?.();
  for (const name of names) {
    if (name === keep) continue;
    const tmp = TMP_NAME.exec(name);
    if (tmp === null && !COPY_NAME.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile() || st.uid !== uid) continue;
      if (tmp !== null) {
        if (pidAlive(Number(tmp[1]))) continue;
      } else {
        if (now - st.mtimeMs < PRUNE_GRACE_MS) continue;
        running ??= executedFiles();
        if (running.has(file)) continue;
      }
      fs.unlinkSync(file);
      removed.push(name);
    } catch {}
  }
  return removed;
}

/** An executable copy of `bytes` (hash `hash`) in `dir`, or why there is none. */
function installIn(
  dir: string,
  name: string,
  bytes: Uint8Array,
  hash: string,
): { path: string } | { reason: string } {
  const target = path.join(dir, name);
  let written = false;
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
    if (trusted) {
      // in use: a pruning monitor of another build leaves it alone (PRUNE_GRACE_MS)
      try {
        const t = new Date();
        fs.utimesSync(target, t, t);
      } catch {}
    } else {
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
        written = true;
      } catch (err) {
        fs.rmSync(tmp, { force: true });
        throw err;
      }
    }
  } catch (err) {
    return { reason: `cannot write ${target}: ${message(err)}` };
  }
  const why = probe(target);
  if (why !== null) return { reason: why };
  if (written) pruneCopies(dir, name);
  return { path: target };
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
 * that vanished since (someone cleared ~/.cache, or another build's monitor pruned it) is written
 * out and probed again; one still there is touched, so that pruning leaves it alone while it is
 * about to be started.
 */
export async function captureFor(runDir: string): Promise<CaptureImpl> {
  const key = path.resolve(runDir);
  let p = resolved.get(key);
  if (p !== undefined) {
    const c = await p;
    if (c.kind === "native") {
      try {
        const t = new Date();
        fs.utimesSync(c.path, t, t);
      } catch {
        if (!fs.existsSync(c.path)) p = undefined;
      }
    }
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
