/**
 * @module
 * The capture shim (`autosentry __shim …`): the small process between a supervised child and the
 * monitor. The monitor starts it in a new session, so it leads the child's process group; it starts
 * the child in that group, writes every line of the child's output to process.log (rotated by size)
 * and forwards the lines to the monitor as frames on its stdout (see protocol.ts).
 *
 * Why a separate process: when the monitor dies the shim keeps reading and logging, so the child never
 * writes into a broken pipe, and a new monitor re-adopts it by following process.log from the offset
 * the last `Z` frame reported. The shim ignores SIGTERM/SIGINT/SIGHUP so that a signal sent to the
 * group stops the child while the shim lives on to drain the last output and record the exit.
 *
 * Keep the imports small: this file is loaded before (and instead of) the CLI.
 */
import * as fs from "node:fs";
import { replaceFileSync } from "../../util/atomic-write.ts";
import { LINE_CUT_MARKER, LineSplitter } from "../../util/lines.ts";
import { groupMembers, killGroupGracefully, readProcStat, signalNumber } from "../../util/proc.ts";
import { openAppendNoFollow } from "../../util/safe-open.ts";
import {
  type GenerationRequest,
  parseGenerationRequest,
  parseServeArgs,
  parseShimArgs,
  SERVE_FLAG,
  type ShimExit,
  type ShimOptions,
  startBanner,
  stopBanner,
} from "./protocol.ts";
import { becomeSubreaper, descendants, endEscaped } from "./subreaper.ts";

/** After the child exits, how long its pipes may stay open (held by grandchildren) before we act. */
const DRAIN_MS = 1000;
/** Grace for processes left in the group after the child exited. */
const LEFTOVER_GRACE_MS = 2000;
/** Bytes of frames kept while the monitor is not reading; beyond this lines are dropped (and counted). */
const FORWARD_QUEUE_MAX = 8 * 1024 * 1024;
/** How long the final frames may wait for a slow monitor before the shim exits anyway. */
const FINAL_FLUSH_MS = 2000;
const O_NONBLOCK = 0o4000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** process.log, appended a batch at a time and rotated by size (file → file.1 → … → file.N). */
export class ProcessLog {
  private fd: number | null = null;
  /** Inode and size of the current file: what `Z` frames report. */
  ino = 0;
  size = 0;
  private failing = false;
  /** Just opened: the file's end was written by someone else (an earlier capture process). */
  private fresh = false;

  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
    private readonly backups: number,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Append whole lines (`text` ends with `\n`); a file is rotated before it would exceed the bound.
   * `latin1`: `text` holds the child's bytes one per character (see StreamPump), written back as
   * those bytes.
   */
  write(text: string, encoding: "utf8" | "latin1" = "utf8"): void {
    try {
      if (this.fd === null) this.open();
      // After a failed write (a full disk), or in a file an earlier capture process left, the file
      // may end in half a line: resume on a line boundary, so the torn line and the next one
      // never merge (issue 16, finding 9).
      if ((this.failing || this.fresh) && this.size > 0 && !this.endsWithNewline()) text = `\n${text}`;
      // Common case: the batch fits (text.length <= its UTF-8 byte length, so this is a safe pre-check).
      const perChar = encoding === "latin1" ? 1 : 3;
      if (
        this.size + text.length * perChar <= this.maxBytes ||
        this.size + Buffer.byteLength(text, encoding) <= this.maxBytes
      ) {
        const want = Buffer.byteLength(text, encoding);
        const n = fs.writeSync(this.fd!, text, null, encoding);
        this.size += n;
        if (n < want) throw new Error(`short write (${n} of ${want} bytes): no space left on device?`);
      } else {
        this.writeSplit(Buffer.from(text, encoding));
      }
      this.failing = false;
      this.fresh = false;
      if (this.size >= this.maxBytes) this.rotate();
    } catch (err) {
      // Disk full or the directory vanished: keep forwarding, say so once, retry on the next batch.
      if (!this.failing) this.warn(`Cannot write ${this.file}: ${message(err)}`);
      this.failing = true;
      this.close();
    }
  }

  /** Write a batch across rotations, splitting it only at line ends. */
  private writeSplit(buf: Buffer): void {
    let from = 0;
    while (from < buf.length) {
      const room = this.maxBytes - this.size;
      let end = buf.length;
      if (end - from > room) {
        const nl = room > 0 ? buf.lastIndexOf(10, from + room - 1) : -1;
        if (nl >= from) end = nl + 1;
        else if (this.size > 0) {
          this.rotate();
          continue;
        } else {
          // One line longer than the whole file bound: it gets a file of its own.
          const first = buf.indexOf(10, from);
          end = first < 0 ? buf.length : first + 1;
        }
      }
      this.size += fs.writeSync(this.fd!, buf, from, end - from);
      from = end;
      if (this.size >= this.maxBytes && from < buf.length) this.rotate();
    }
  }

  close(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {}
      this.fd = null;
    }
  }

  private endsWithNewline(): boolean {
    try {
      const last = Buffer.alloc(1);
      fs.readSync(this.fd!, last, 0, 1, this.size - 1);
      return last[0] === 0x0a;
    } catch {
      return true;
    }
  }

  private open(): void {
    this.fd = openAppendNoFollow(this.file, true);
    const st = fs.fstatSync(this.fd);
    this.ino = st.ino;
    this.size = st.size;
    this.fresh = true;
  }

  private rotate(): void {
    if (this.backups === 0) {
      fs.ftruncateSync(this.fd!, 0);
      this.size = 0;
      return;
    }
    this.close();
    for (let i = this.backups - 1; i >= 1; i--) {
      try {
        fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {}
    }
    fs.renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}

/**
 * Frames to fd 1 without ever blocking the child: writes are non-blocking where the fd allows it,
 * what does not fit is queued up to a bound, and beyond the bound whole batches are dropped and
 * counted (`D` frame). After EPIPE (the monitor is gone) everything is discarded.
 */
export class FrameWriter {
  private readonly queue: Buffer[] = [];
  private head = 0;
  private queued = 0;
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The reader is gone (EPIPE or another write error). */
  broken = false;

  constructor(
    private readonly fd: number,
    private readonly maxQueued: number,
  ) {}

  /**
   * Queue a batch of frames holding `lines` child lines; dropped when the queue is full. The
   * frames hold the child's bytes one per character (StreamPump), sent as those bytes.
   */
  send(frames: string, lines: number): void {
    if (this.broken) return;
    if (this.queued >= this.maxQueued) {
      this.dropped += lines;
      return;
    }
    this.push(frames, "latin1");
  }

  /** Queue frames that must not be dropped (start, exit, warnings). */
  sendAlways(frames: string): void {
    if (this.broken) return;
    this.push(frames);
  }

  /**
   * Wait until everything queued is written, the reader is gone, or `timeoutMs` passed. With
   * `keepTrying` (a serving shim between generations) what is still queued keeps being written
   * afterwards; without it (the shim is about to exit) the retry timer is dropped.
   */
  async flush(timeoutMs: number, keepTrying = false): Promise<void> {
    const end = Date.now() + timeoutMs;
    this.write();
    while (this.queue.length > 0 && !this.broken && Date.now() < end) {
      await Bun.sleep(5);
      this.write();
    }
    if (keepTrying && this.queue.length > 0 && !this.broken) {
      this.schedule();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private push(frames: string, encoding: "utf8" | "latin1" = "utf8"): void {
    if (this.dropped > 0) {
      frames = `D${this.dropped}\n${frames}`;
      this.dropped = 0;
    }
    const buf = Buffer.from(frames, encoding);
    this.queue.push(buf);
    this.queued += buf.length;
    if (this.queue.length === 1) this.write();
  }

  private write(): void {
    while (this.queue.length > 0) {
      const buf = this.queue[0]!;
      let n: number;
      try {
        n = fs.writeSync(this.fd, buf, this.head, buf.length - this.head);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EAGAIN" || code === "EWOULDBLOCK") {
          this.schedule();
          return;
        }
        this.broken = true;
        this.queue.length = 0;
        this.queued = 0;
        return;
      }
      this.head += n;
      this.queued -= n;
      if (this.head === buf.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
  }

  private schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, 5);
  }
}

/**
 * Make fd 1 non-blocking. Bun sets O_NONBLOCK on the stdout socket the first time `process.stdout`
 * is touched (verified on Bun 1.4.5); the flag belongs to the shim's own end of the monitor's
 * socketpair, so nobody else is affected. If a later Bun stops doing this, writes simply block,
 * which is slower when the monitor stalls but still correct. Returns whether fd 1 is non-blocking.
 */
function nonBlockingStdout(): boolean {
  void process.stdout.fd;
  try {
    const info = fs.readFileSync("/proc/self/fdinfo/1", "latin1");
    const m = /^flags:\s*([0-7]+)/m.exec(info);
    return m !== null && (Number.parseInt(m[1]!, 8) & O_NONBLOCK) !== 0;
  } catch {
    return false;
  }
}

/** The cut marker's UTF-8 bytes, one character per byte (the domain StreamPump works in). */
const CUT_MARKER_LATIN1 = Buffer.from(LINE_CUT_MARKER, "utf8").toString("latin1");

/** Reads one of the child's streams, splits it into lines and hands each batch to `deliver`. */
class StreamPump {
  readonly done: Promise<void>;
  private readonly reader: { cancel(reason?: unknown): Promise<void> };

  constructor(
    stream: ReadableStream<Uint8Array>,
    tag: string,
    maxLineLength: number,
    deliver: (logText: string, frames: string, lines: number) => void,
  ) {
    const reader = stream.getReader();
    this.reader = reader;
    // The child's bytes are kept as written in process.log (invalid UTF-8 included, as the docs
    // promise; issue 16 finding 11): the stream is read as latin1 (one character per byte, so line
    // ends are found and lengths bounded in bytes) and written back as latin1, to process.log and
    // to the monitor, which decodes its pipe as UTF-8 (an invalid byte shows as U+FFFD there only).
    const splitter = new LineSplitter(maxLineLength);
    let logText = "";
    let frames = "";
    let lines = 0;
    const emit = (raw: string): void => {
      const line = raw.endsWith(LINE_CUT_MARKER)
        ? raw.slice(0, -LINE_CUT_MARKER.length) + CUT_MARKER_LATIN1
        : raw;
      logText += line + "\n";
      frames += tag + line + "\n";
      lines++;
    };
    const flush = (): void => {
      if (lines === 0) return;
      deliver(logText, frames, lines);
      logText = "";
      frames = "";
      lines = 0;
    };
    this.done = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          splitter.push(
            Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1"),
            emit,
          );
          flush();
        }
      } catch {
        // Cancelled, or the pipe failed: end the stream with what was read.
      }
      splitter.end(emit);
      flush();
    })();
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What the generations of one shim share: the frame writer, process.log and the warning channel. */
interface ShimContext {
  out: FrameWriter;
  log: ProcessLog;
  warn(msg: string): void;
  maxLineLength: number;
  /** This shim is a child subreaper: escaped descendants come back to it (subreaper.ts). */
  subreaper: boolean;
}

function shimContext(
  o: Pick<ShimOptions, "logPath" | "logMaxBytes" | "logBackups" | "maxLineLength">,
): ShimContext {
  nonBlockingStdout();
  const out = new FrameWriter(1, FORWARD_QUEUE_MAX);
  const warn = (msg: string): void => {
    try {
      fs.writeSync(2, `autosentry __shim: ${msg}\n`);
    } catch {}
    out.sendAlways(`W${msg.replace(/[\r\n]+/g, " ")}\n`);
  };
  const log = new ProcessLog(o.logPath, o.logMaxBytes, o.logBackups, warn);
  return { out, log, warn, maxLineLength: o.maxLineLength, subreaper: becomeSubreaper() };
}

// SIGUSR1/2: a checkpoint signal sent to the job's group (process.resume.signal) is for the job, not the shim
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR1", "SIGUSR2"] as const;
const ignoreSignal = (): void => {};

/**
 * `autosentry __shim …`: run the child, capture it, return its exit code (128+n for signal n).
 * With `--serve` instead of a command, the shim stays for many generations (see {@link serve}).
 */
export async function runShim(args: string[]): Promise<number> {
  if (args[0] === SERVE_FLAG) return serve(args.slice(1));
  let opts: ShimOptions;
  try {
    opts = parseShimArgs(args);
  } catch (err) {
    process.stderr.write(`autosentry __shim: ${message(err)}\n`);
    return 2;
  }
  for (const sig of SIGNALS) process.on(sig, ignoreSignal);
  const ctx = shimContext(opts);
  const status = await runGeneration(ctx, {
    generation: opts.generation,
    argv: opts.argv,
    cwd: process.cwd(),
    env: process.env as Record<string, string>,
    exitFile: opts.exitFile,
  });
  ctx.log.close();
  await ctx.out.flush(FINAL_FLUSH_MS);
  for (const sig of SIGNALS) process.off(sig, ignoreSignal);
  return status;
}

/**
 * `autosentry __shim --serve …`: one capture process for the whole run. Each line on stdin is a
 * {@link GenerationRequest} (JSON); the shim runs that generation exactly as the one-shot form does
 * (same frames, same exit file, same banners) and then waits for the next request. The monitor thus
 * pays a runtime start once per run instead of once per restart. When stdin ends (the monitor
 * closed it, or died) the shim finishes the generation it is running, if any, and exits: a dead
 * monitor never leaves an idle capture process behind, and a child it was running is still
 * captured to its end (its exit file is what a new monitor reads).
 */
async function serve(args: string[]): Promise<number> {
  let opts: ReturnType<typeof parseServeArgs>;
  try {
    opts = parseServeArgs(args);
  } catch (err) {
    process.stderr.write(`autosentry __shim: ${message(err)}\n`);
    return 2;
  }
  for (const sig of SIGNALS) process.on(sig, ignoreSignal);
  const ctx = shimContext(opts);
  const reader = Bun.stdin.stream().getReader();
  const decoder = new TextDecoder("utf-8");
  let pending = "";
  let eof = false;
  const next = async (): Promise<string | null> => {
    for (;;) {
      const nl = pending.indexOf("\n");
      if (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        return line;
      }
      if (eof) return null;
      try {
        const { done, value } = await reader.read();
        if (done) eof = true;
        else pending += decoder.decode(value, { stream: true });
      } catch {
        eof = true;
      }
    }
  };
  let last = 0;
  for (;;) {
    const line = await next();
    if (line === null) break;
    if (line.trim() === "") continue;
    let req: GenerationRequest;
    try {
      req = parseGenerationRequest(line);
    } catch (err) {
      ctx.warn(`ignoring a bad request: ${message(err)}`);
      continue;
    }
    last = await runGeneration(ctx, req);
    // This generation's frames go out before the next one starts (or keep going out, if the
    // monitor is slow: it asks for the next generation only after this one's X frame anyway).
    await ctx.out.flush(FINAL_FLUSH_MS, true);
  }
  ctx.log.close();
  await ctx.out.flush(FINAL_FLUSH_MS);
  for (const sig of SIGNALS) process.off(sig, ignoreSignal);
  return last;
}

/** Run one generation: start the child, capture it to its end, record the exit. */
async function runGeneration(ctx: ShimContext, req: GenerationRequest): Promise<number> {
  const { out, log, warn } = ctx;
  const offsetFrame = (): string => `Z${log.ino}:${log.size}\n`;

  let child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    child = Bun.spawn(req.argv, {
      cwd: req.cwd,
      env: req.env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
  } catch (err) {
    const why = message(err).replace(/[\r\n]+/g, " ");
    log.write(
      `===== autosentry: cannot start ${new Date().toISOString()} gen=${req.generation}: ${why} =====\n`,
    );
    out.sendAlways(`F${why}\n`);
    return 127;
  }

  log.write(`${startBanner(Date.now(), req.generation, child.pid)}\n`);
  out.sendAlways(`P${child.pid}\n${offsetFrame()}`);

  const deliver = (logText: string, frames: string, lines: number): void => {
    log.write(logText, "latin1");
    out.send(frames + offsetFrame(), lines);
  };
  const pumps = [
    new StreamPump(child.stdout, "O", ctx.maxLineLength, deliver),
    new StreamPump(child.stderr, "E", ctx.maxLineLength, deliver),
  ];
  const drained = Promise.all(pumps.map((p) => p.done));

  await child.exited;
  const at = Date.now();
  const code = child.exitCode;
  const signal = typeof child.signalCode === "string" ? child.signalCode : null;

  // Grandchildren may hold the pipes open after the child exited. Whatever is left in the group once
  // the child is gone is killed: leftovers of a finished job keep GPUs and ports busy and would
  // collide with the next start. Only when we really lead the group (never signal someone else's).
  let done = await within(drained, DRAIN_MS);
  let leftovers = 0;
  const leader = readProcStat(process.pid)?.pgrp === process.pid;
  // Every live descendant (a subreaper gets the escaped ones back): usually none, and then there is
  // nothing to look for below either (each look reads /proc once per thread of this process, on the
  // way from the child's exit to the monitor's restart).
  const desc = ctx.subreaper && leader ? descendants() : [];
  if (leader) {
    // A subreaper session leader finds its group among its descendants (cheap: usually none).
    const others = ctx.subreaper
      ? desc.filter((p) => readProcStat(p)?.pgrp === process.pid)
      : groupMembers(process.pid).filter((p) => p !== process.pid);
    leftovers = others.length;
    if (leftovers > 0) {
      warn(`${leftovers} process(es) left in the group after the child exited; killing them`);
      await killGroupGracefully(process.pid, LEFTOVER_GRACE_MS, { spare: process.pid });
    }
  }
  // Descendants that left the group (double fork + setsid) were re-parented to us: end them too,
  // and say which they were (issue 16 finding 10).
  // Only when we lead the group, as above (a shim inside its caller's group owns nothing there).
  if (ctx.subreaper && leader && desc.length > 0) {
    const escaped = await endEscaped(LEFTOVER_GRACE_MS);
    if (escaped.length > 0) {
      leftovers += escaped.length;
      warn(
        `${escaped.length} process(es) escaped the process group (setsid) and outlived the child; ended them: ${escaped.join(", ")}`,
      );
    }
  }
  if (!done) done = await within(drained, DRAIN_MS);
  if (!done) {
    for (const p of pumps) p.cancel();
    await drained;
  }

  const exit: ShimExit = { generation: req.generation, pid: child.pid, code, signal, at, leftovers };
  // Written with write + rename, no fsync: it must survive the monitor (a crash of a process loses
  // nothing the kernel holds), not a power loss, which ends the child too. The capture process
  // never deletes it; the monitor does once it has recorded this exit (issue 16).
  try {
    replaceFileSync(req.exitFile, `${JSON.stringify(exit)}\n`);
  } catch (err) {
    warn(`Cannot write exit file ${req.exitFile}: ${message(err)}`);
  }
  const status = code ?? 128 + (signalNumber(signal ?? "") ?? 0);
  log.write(`${stopBanner(Date.now(), status)}\n`);
  out.sendAlways(`${offsetFrame()}X${JSON.stringify(exit)}\n`);
  return status;
}
