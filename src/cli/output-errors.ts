/**
 * @module
 * What a command does when its own output cannot be written: `autosentry … | head -1` closes the
 * pipe (EPIPE), `autosentry status >/dev/full` fills the device (ENOSPC). Neither is a bug of
 * autosentry, so neither may print a stack trace: a closed pipe ends the command quietly with
 * 141 (128 + SIGPIPE, what `yes | head -1` gives), any other write error with one line and 1.
 */
import { writeSync } from "node:fs";

/** The exit code for a closed output pipe, as if SIGPIPE had ended the process. */
export const EXIT_BROKEN_PIPE = 141;

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
}

/** True when `err` is a failed write to one of our own output streams. */
export function isOutputError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as ErrnoLike;
  return e.code === "EPIPE" || (e.syscall === "write" && typeof e.code === "string");
}

/** The exit code for an output error, writing its one-line explanation when stderr still works. */
export function exitForOutputError(err: unknown): number {
  const e = err as ErrnoLike;
  if (e.code === "EPIPE") return EXIT_BROKEN_PIPE;
  try {
    process.stderr.write(`autosentry: cannot write output: ${String(e.code)}\n`);
  } catch {
    // stderr is gone too: the exit code is all that is left to say it.
  }
  return 1;
}

let keepRunning = false;

/**
 * For `run`: the monitor must keep supervising when its terminal or pipe goes away (its logger
 * already falls back to the log file), so late output errors are ignored instead of ending it.
 */
export function keepRunningOnOutputErrors(): void {
  keepRunning = true;
}

let guarded = false;

/**
 * Streams report late write failures as 'error' events; without a listener they become an
 * uncaught exception with a stack trace. End the process with the code above instead.
 *
 * Called before the first write through `process.stdout`/`process.stderr` (idempotent), not at
 * start: in Bun, touching either stream builds the node stream machinery, ~8 ms of CPU, which a
 * command that writes with {@link writeStdoutSync} (`status`, `--version`) never pays (issue 13).
 */
export function exitQuietlyOnOutputErrors(): void {
  if (guarded) return;
  guarded = true;
  const onError = (err: unknown) => {
    if (keepRunning) return;
    process.exit(isOutputError(err) ? exitForOutputError(err) : 1);
  };
  process.stdout.on("error", onError);
  process.stderr.on("error", onError);
}

/**
 * Write `text` to fd 1 synchronously, without creating `process.stdout` (see
 * {@link exitQuietlyOnOutputErrors}). A failed write throws the errno error (`EPIPE`, `ENOSPC`,
 * syscall `write`), which {@link isOutputError} recognises. A non-blocking stdout (`EAGAIN`: a
 * parent that set O_NONBLOCK on a shared pipe) gets the rest through `process.stdout`, which
 * waits for the pipe to drain.
 */
export function writeStdoutSync(text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    let n: number;
    try {
      n = writeSync(1, buf);
    } catch (err) {
      if ((err as ErrnoLike).code !== "EAGAIN") throw err;
      exitQuietlyOnOutputErrors();
      process.stdout.write(buf);
      return;
    }
    buf = buf.subarray(n);
  }
}

const synchronous = new WeakSet<object>();

/**
 * Mark `cmd` as a command whose action writes only through {@link writeStdoutSync} (and reports
 * errors through the CLI's catch), so that running it does not create the output streams.
 */
export function markWritesSynchronously<C extends object>(cmd: C): C {
  synchronous.add(cmd);
  return cmd;
}

/** True for a command marked with {@link markWritesSynchronously}. */
export function writesSynchronously(cmd: object): boolean {
  return synchronous.has(cmd);
}
