/**
 * @module
 * Run a short-lived command to completion with a timeout and bounded output (custom_command, git,
 * sbatch, docker, claude).
 *
 * The command gets its own process group (`detached`), so a timeout kills everything it started:
 * SIGTERM to the group, a short grace, then SIGKILL. Processes it leaves in its group after it exits
 * are killed too (unless `keepBackground`): they would otherwise hold the output pipes open and
 * linger as orphans. Output is read until both pipes close, so the command never blocks on a full
 * pipe; beyond `maxOutputBytes` it is read and dropped.
 */
import * as fs from "node:fs";
import { groupMembers, killGroupGracefully } from "./proc.ts";

export interface RunCommandOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  /** Bytes of output kept (stdout and stderr together); default 1 MiB. */
  maxOutputBytes?: number;
  /** Written to the command's stdin, which is then closed (default: stdin is /dev/null). */
  input?: string;
  /** Grace between SIGTERM and SIGKILL when the timeout hits (default 2 s). */
  killGraceMs?: number;
  /** Leave processes the command started in the background alive after it exits. */
  keepBackground?: boolean;
}

export interface RunCommandResult {
  /** Exit code, null when it died of a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved in arrival order, cut at `maxOutputBytes` with a marker. */
  output: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** Processes still in the command's group after it exited (killed unless `keepBackground`). */
  leftovers: number;
  /** Set when the command could not be started (`Cannot run foo: Executable not found …`). */
  error?: string;
}

/** Text appended where output was cut. */
export function truncationMarker(droppedBytes: number): string {
  return `\n…[autosentry: output truncated, ${droppedBytes} more bytes not kept]\n`;
}

/** After the command exits, how long pipes held by kept background processes are still read. */
const DRAIN_MS = 2000;

class Capture {
  output = "";
  stdout = "";
  stderr = "";
  private kept = 0;
  private dropped = { stdout: 0, stderr: 0 };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly max: number) {}

  add(stream: "stdout" | "stderr", chunk: Uint8Array): void {
    let piece = chunk;
    const room = this.max - this.kept;
    if (chunk.length > room) {
      piece = chunk.subarray(0, Math.max(0, room));
      this.dropped[stream] += chunk.length - piece.length;
    }
    if (piece.length === 0) return;
    this.kept += piece.length;
    const text = this.decoders[stream].decode(piece, { stream: true });
    this.output += text;
    this[stream] += text;
  }

  finish(): void {
    for (const s of ["stdout", "stderr"] as const) {
      const rest = this.decoders[s].decode();
      this.output += rest;
      this[s] += rest;
      if (this.dropped[s] > 0) this[s] += truncationMarker(this.dropped[s]);
    }
    const total = this.dropped.stdout + this.dropped.stderr;
    if (total > 0) this.output += truncationMarker(total);
  }
}

function failed(argv: string[], why: string, started: number): RunCommandResult {
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    output: "",
    stdout: "",
    stderr: "",
    durationMs: Math.round(performance.now() - started),
    leftovers: 0,
    error: `Cannot run ${argv[0] ?? "(empty command)"}: ${why}`,
  };
}

/** Run `argv` to completion; never rejects (a start failure is reported in `error`). */
export async function runCommand(argv: string[], opts: RunCommandOptions): Promise<RunCommandResult> {
  const started = performance.now();
  if (argv.length === 0 || argv[0] === "") return failed(argv, "empty command", started);
  let isDir = false;
  try {
    isDir = fs.statSync(opts.cwd).isDirectory();
  } catch {}
  if (!isDir) return failed(argv, `working directory not found: ${opts.cwd}`, started);

  let proc: Bun.Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn(argv, {
      cwd: opts.cwd,
      env: opts.env,
      stdin: opts.input !== undefined ? "pipe" : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      detached: true,
    });
  } catch (err) {
    return failed(argv, err instanceof Error ? err.message : String(err), started);
  }

  const capture = new Capture(opts.maxOutputBytes ?? 1024 * 1024);
  const readers: { cancel(): Promise<void> }[] = [];
  const read = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> => {
    const reader = stream.getReader();
    readers.push(reader);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        capture.add(name, value);
      }
    } catch {
      // Cancelled after the drain window.
    }
  };
  const drained = Promise.all([read(proc.stdout, "stdout"), read(proc.stderr, "stderr")]);

  if (opts.input !== undefined && proc.stdin) {
    const sink = proc.stdin;
    try {
      sink.write(opts.input);
      await Promise.resolve(sink.end()).catch(() => {});
    } catch {
      // The command exited without reading its input: not our failure.
    }
  }

  let timedOut = false;
  let killing: Promise<unknown> | null = null;
  const timer = setTimeout(() => {
    timedOut = true;
    killing = killGroupGracefully(proc.pid, opts.killGraceMs ?? 2000);
  }, opts.timeoutMs);

  await proc.exited;
  clearTimeout(timer);
  const durationMs = Math.round(performance.now() - started);

  let leftovers = 0;
  if (killing !== null) {
    await killing;
  } else {
    const members = groupMembers(proc.pid);
    leftovers = members.length;
    if (leftovers > 0 && !opts.keepBackground) await killGroupGracefully(proc.pid, opts.killGraceMs ?? 2000);
  }
  let timeout: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    drained.then(() => true),
    new Promise<boolean>((r) => {
      timeout = setTimeout(() => r(false), DRAIN_MS);
    }),
  ]);
  clearTimeout(timeout);
  if (!done) {
    for (const r of readers) r.cancel().catch(() => {});
    await drained;
  }
  capture.finish();

  return {
    exitCode: proc.exitCode,
    signal: typeof proc.signalCode === "string" ? proc.signalCode : null,
    timedOut,
    output: capture.output,
    stdout: capture.stdout,
    stderr: capture.stderr,
    durationMs,
    leftovers,
  };
}
