/**
 * @module
 * The docker supervisor: each launch is a fresh container started with `docker run -d`
 * (run-args.ts), followed with `docker logs -f --timestamps` (stdout and stderr kept apart) and
 * watched with `docker wait`, plus an occasional `docker inspect` (every
 * `monitor.poll_interval_seconds`) in case the wait is lost. The exit code and class come from
 * `docker inspect` (state.ts): a dead or vanished container is never a success.
 *
 * - `stop` runs `docker stop -t <stop_grace_seconds> <container>` (an explicit timeout: the Docker CLI
 *   against podman's compat API otherwise kills at once) and waits for the container to end.
 * - A stopped or exited container is kept (for `docker logs`/`docker inspect` after the fact) and
 *   removed right before the next launch, which reuses the name. A running container of that name
 *   that this monitor did not start is never touched: the launch fails with a message instead.
 * - Every launch is a new container, so env changes (`restart_with_env`) apply, and after a pause
 *   the resumed container's output is followed like the first one's.
 * - The record carries the container id, its name and the log cursor; `adopt` follows the same
 *   container again without repeating or losing lines, and reports its real ending if it ended
 *   while no monitor watched.
 * - If `docker logs` ends while the container still runs (daemon restart), it is started again from
 *   the cursor. At the end, one last `docker logs --since <cursor>` picks up anything a lost
 *   follower missed.
 */

import type { ChildExit } from "../../core/types.ts";
import { LineSplitter } from "../../util/lines.ts";
import { type RunCommandResult, runCommand } from "../../util/run-command.ts";
import { deliverExit, firstLine, substitute as substituteIn } from "../backend-helpers.ts";
import type { ChildRecord, ExternalBackendOptions, LaunchSpec, StopReason, Supervisor } from "../types.ts";
import { buildDockerRun } from "./run-args.ts";
import {
  type ContainerState,
  classifyState,
  isNoSuchContainer,
  isRunning,
  type LogCursor,
  LogPosition,
  parseState,
} from "./state.ts";

/** `env` is for docker calls other than `run`; `pollIntervalMs` is how often the container is
 * inspected besides `docker wait` (monitor.poll_interval_seconds). */
export interface DockerSupervisorOptions extends ExternalBackendOptions {
  /** `process.extra.container_name` (default `autosentry-<8 hex>`). */
  containerName?: string | undefined;
  logStreamCommand?: string[] | undefined;
  stopCommand?: string[] | undefined;
  removeCommand?: string[] | undefined;
  /** Timeout of `docker run` (default 10 minutes: it may pull the image). */
  runTimeoutMs?: number;
}

interface Pipe {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  done: Promise<void>;
}

interface Container {
  generation: number;
  name: string;
  id: string;
  cli: string;
  startedAt: number;
  pos: LogPosition;
  logs: Pipe | null;
  waiter: Bun.Subprocess | null;
  poll: ReturnType<typeof setInterval> | null;
  respawn: ReturnType<typeof setTimeout> | null;
  checking: boolean;
  errorStreak: number;
  stopRequestedAt: number | null;
  finishing: boolean;
  delivered: boolean;
  detached: boolean;
  exited: Promise<void>;
  resolveExited: () => void;
}

function substitute(argv: string[], name: string): string[] {
  return substituteIn(argv, "{name}", name);
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

type Inspect = { kind: "state"; state: ContainerState } | { kind: "gone" } | { kind: "error"; why: string };

export class DockerSupervisor implements Supervisor {
  readonly kind = "docker" as const;
  readonly capabilities = { restart: true, stop: true };
  private cur: Container | null = null;
  private name: string;
  private warned = new Set<string>();

  constructor(private readonly opts: DockerSupervisorOptions) {
    this.name = opts.containerName ?? `autosentry-${crypto.randomUUID().replace(/-/g, "").slice(0, 8)}`;
  }

  private exec(argv: string[], timeoutMs = 60_000): Promise<RunCommandResult> {
    return runCommand(argv, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      timeoutMs,
      maxOutputBytes: 1024 * 1024,
    });
  }

  private async inspect(cli: string, ref: string): Promise<Inspect> {
    const r = await this.exec([cli, "inspect", "--type", "container", "-f", "{{json .State}}", ref]);
    if (r.exitCode === 0) {
      const st = parseState(r.stdout);
      return st
        ? { kind: "state", state: st }
        : { kind: "error", why: `unreadable inspect output: ${r.stdout.trim().slice(0, 200)}` };
    }
    if (isNoSuchContainer(r.stderr) || isNoSuchContainer(r.stdout)) return { kind: "gone" };
    return { kind: "error", why: `${cli} inspect: ${firstLine(r)}` };
  }

  async start(spec: LaunchSpec): Promise<ChildRecord> {
    const { logger } = this.opts;
    if (this.running()) {
      throw new Error(`Cannot start generation ${spec.generation}: container ${this.cur!.name} is running`);
    }
    const argv0 = spec.argv[0] ?? "";
    const cli = /(^|\/)(docker|podman)$/.test(argv0) ? argv0 : "docker";
    let run: ReturnType<typeof buildDockerRun>;
    try {
      run = buildDockerRun(spec.argv, this.name, Object.keys(spec.envOverrides));
    } catch (err) {
      throw new Error(`Cannot start the container: ${(err as Error).message}`);
    }
    for (const w of run.warnings) {
      if (!this.warned.has(w)) logger.warn(`docker: ${w}`);
      this.warned.add(w);
    }

    // The name must be free: remove our earlier (stopped) container, never a running stranger.
    const existing = await this.inspect(cli, run.name);
    if (existing.kind === "state") {
      if (isRunning(existing.state)) {
        throw new Error(
          `Cannot start the container: a container named ${run.name} is already running and this monitor did not start it; stop it or set process.extra.container_name`,
        );
      }
      const rm = this.opts.removeCommand
        ? substitute(this.opts.removeCommand, run.name)
        : [cli, "rm", "-f", run.name];
      const r = await this.exec(rm);
      if (r.exitCode !== 0)
        throw new Error(`Cannot start the container: ${rm.join(" ")} failed: ${firstLine(r)}`);
      logger.info(`Removed the previous container ${run.name} (${existing.state.Status})`);
    } else if (existing.kind === "error") {
      throw new Error(`Cannot start the container: ${existing.why}`);
    }

    const res = await runCommand(run.argv, {
      cwd: spec.cwd,
      env: spec.env,
      timeoutMs: this.opts.runTimeoutMs ?? 600_000,
      maxOutputBytes: 1024 * 1024,
    });
    if (res.error) throw new Error(`Cannot start the container: ${res.error}`);
    if (res.exitCode !== 0) {
      throw new Error(
        `Cannot start the container: ${cli} run exited with code ${res.exitCode ?? res.signal}: ${res.stderr.trim() || res.stdout.trim()}`,
      );
    }
    let id = /([0-9a-f]{64})\s*$/.exec(res.stdout)?.[1] ?? null;
    if (id === null) {
      const r = await this.exec([cli, "inspect", "--type", "container", "-f", "{{.Id}}", run.name]);
      id = r.exitCode === 0 ? r.stdout.trim() : null;
    }
    if (!id) throw new Error(`Cannot start the container: no container id in ${cli} run's output`);
    this.name = run.name;
    const c = this.newContainer(spec.generation, run.name, id, cli, Date.now(), null);
    this.cur = c;
    this.follow(c);
    logger.info(
      `Started generation ${spec.generation}: container ${run.name} (${id.slice(0, 12)}): ${run.argv.join(" ")}`,
    );
    return this.record()!;
  }

  private newContainer(
    generation: number,
    name: string,
    id: string,
    cli: string,
    startedAt: number,
    cursor: LogCursor | null,
  ): Container {
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => {
      resolveExited = r;
    });
    return {
      generation,
      name,
      id,
      cli,
      startedAt,
      pos: new LogPosition(cursor),
      logs: null,
      waiter: null,
      poll: null,
      respawn: null,
      checking: false,
      errorStreak: 0,
      stopRequestedAt: null,
      finishing: false,
      delivered: false,
      detached: false,
      exited,
      resolveExited,
    };
  }

  /** Start the log follower, the waiter and the safety-net poll. */
  private follow(c: Container): void {
    this.spawnLogs(c);
    this.spawnWaiter(c);
    c.poll = setInterval(() => void this.check(c), Math.max(1000, this.opts.pollIntervalMs));
  }

  private emit(c: Container, raw: string, stream: "stdout" | "stderr"): void {
    const text = this.opts.logStreamCommand ? raw : c.pos.accept(raw, stream);
    if (text === null) return;
    try {
      this.opts.sink.line(text, stream, c.generation);
    } catch (err) {
      this.opts.logger.error(
        `Supervisor sink failed on a line of generation ${c.generation}: ${(err as Error).message}`,
      );
    }
  }

  /** Read one pipe of a logs process into lines. */
  private async pump(
    c: Container,
    stream: ReadableStream<Uint8Array>,
    name: "stdout" | "stderr",
  ): Promise<void> {
    const reader = stream.getReader();
    const decoder = new TextDecoder("utf-8");
    // Room for the timestamp docker puts in front of each line.
    const splitter = new LineSplitter(this.opts.maxLineLength + 40);
    const onLine = (raw: string) => this.emit(c, raw, name);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        splitter.push(decoder.decode(value, { stream: true }), onLine);
      }
    } catch {
      // The process was killed (detach or finish).
    }
    splitter.push(decoder.decode(), onLine);
    splitter.end(onLine);
  }

  private logsArgv(c: Container, follow: boolean): string[] {
    if (this.opts.logStreamCommand) return substitute(this.opts.logStreamCommand, c.name);
    const since = c.pos.since();
    return [
      c.cli,
      "logs",
      ...(follow ? ["-f"] : []),
      "--timestamps",
      ...(since ? ["--since", since] : []),
      c.id,
    ];
  }

  private spawnLogs(c: Container): void {
    if (c.delivered || c.detached || c.finishing) return;
    c.pos.rearm();
    const argv = this.logsArgv(c, true);
    let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn(argv, {
        cwd: this.opts.cwd,
        env: this.opts.env,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
    } catch (err) {
      this.opts.logger.error(
        `Cannot follow the container's output: ${argv.join(" ")}: ${(err as Error).message}`,
      );
      return;
    }
    const done = Promise.all([
      this.pump(c, proc.stdout, "stdout"),
      this.pump(c, proc.stderr, "stderr"),
      proc.exited,
    ]).then(() => {
      if (c.logs?.proc === proc) c.logs = null;
      if (!c.delivered && !c.detached && !c.finishing) void this.check(c);
    });
    c.logs = { proc, done };
  }

  private spawnWaiter(c: Container): void {
    if (c.delivered || c.detached || c.finishing || c.waiter !== null) return;
    let proc: Bun.Subprocess;
    try {
      proc = Bun.spawn([c.cli, "wait", c.id], {
        cwd: this.opts.cwd,
        env: this.opts.env,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
    } catch {
      return; // The safety-net poll covers it.
    }
    c.waiter = proc;
    void proc.exited.then(() => {
      if (c.waiter === proc) c.waiter = null;
      if (!c.delivered && !c.detached && !c.finishing) void this.check(c);
    });
  }

  /** Is the container still running? If not, finish it; if so, make sure it is followed. */
  private async check(c: Container): Promise<void> {
    if (c.checking || c.delivered || c.detached || c.finishing) return;
    c.checking = true;
    try {
      const r = await this.inspect(c.cli, c.id);
      if (c.delivered || c.detached || c.finishing) return;
      if (r.kind === "error") {
        c.errorStreak++;
        if (c.errorStreak === 1 || c.errorStreak % 20 === 0) {
          this.opts.logger.warn(`Cannot tell the state of container ${c.name} (${r.why}); asking again`);
        }
        this.scheduleRespawn(c);
        return;
      }
      c.errorStreak = 0;
      if (r.kind === "state" && isRunning(r.state)) {
        this.scheduleRespawn(c);
        return;
      }
      await this.finish(c, r.kind === "state" ? r.state : null);
    } finally {
      c.checking = false;
    }
  }

  /** The container runs but a follower or the waiter ended (daemon restart): start them again soon. */
  private scheduleRespawn(c: Container): void {
    if (c.respawn !== null || (c.logs !== null && c.waiter !== null)) return;
    c.respawn = setTimeout(() => {
      c.respawn = null;
      if (c.logs === null) this.spawnLogs(c);
      this.spawnWaiter(c);
    }, 1000);
  }

  /** The container is over: read the rest of its output, then report the exit. */
  private async finish(c: Container, state: ContainerState | null): Promise<void> {
    if (c.finishing || c.delivered) return;
    c.finishing = true;
    if (c.poll !== null) clearInterval(c.poll);
    c.poll = null;
    if (c.respawn !== null) clearTimeout(c.respawn);
    c.respawn = null;
    c.waiter?.kill("SIGKILL");
    c.waiter = null;
    const logs = c.logs;
    if (logs !== null && !(await within(logs.done, 5000))) {
      logs.proc.kill("SIGKILL");
      await logs.done;
    }
    c.logs = null;
    if (state !== null && !this.opts.logStreamCommand && !c.detached) {
      // Whatever a lost follower missed (the cursor skips what was read).
      c.pos.rearm();
      const argv = this.logsArgv(c, false);
      try {
        const proc = Bun.spawn(argv, {
          cwd: this.opts.cwd,
          env: this.opts.env,
          stdin: "ignore",
          stdout: "pipe",
          stderr: "pipe",
        });
        const done = Promise.all([
          this.pump(c, proc.stdout, "stdout"),
          this.pump(c, proc.stderr, "stderr"),
          proc.exited,
        ]);
        if (!(await within(done, 30_000))) {
          proc.kill("SIGKILL");
          await done;
        }
      } catch (err) {
        this.opts.logger.warn(`Cannot read the rest of the container's output: ${(err as Error).message}`);
      }
    }
    if (c.detached) return;
    let exit: ChildExit;
    const stopped = c.stopRequestedAt !== null;
    if (state !== null) {
      const k = classifyState(state, stopped);
      exit = {
        code: k.code,
        signal: k.signal,
        exitClass: k.exitClass,
        at: Date.now(),
        generation: c.generation,
        detail: `container ${c.name} (${c.id.slice(0, 12)}): ${k.detail}`,
      };
    } else {
      exit = {
        code: null,
        signal: null,
        exitClass: stopped ? "stopped" : "unknown",
        at: Date.now(),
        generation: c.generation,
        detail: `container ${c.name} (${c.id.slice(0, 12)}) was removed before its exit code could be read`,
      };
    }
    deliverExit(c, exit, this.opts.sink, this.opts.logger, `Container ${c.name} ended: ${exit.detail}`);
  }

  /** `process.resume.signal` before a deliberate stop: `docker kill --signal=SIG` (the container's main process). */
  async signal(sig: NodeJS.Signals): Promise<boolean> {
    const c = this.cur;
    if (c === null || c.delivered || c.detached) return false;
    const argv = [c.cli, "kill", `--signal=${sig.replace(/^SIG/, "")}`, c.id];
    const r = await this.exec(argv);
    if (r.exitCode !== 0) {
      this.opts.logger.warn(`${argv.join(" ")} failed: ${firstLine(r)}`);
      return false;
    }
    this.opts.logger.info(`Sent ${sig} to container ${c.name}: ${argv.join(" ")}`);
    return true;
  }

  async stop(reason: StopReason, graceSeconds: number): Promise<void> {
    const c = this.cur;
    if (c === null || c.delivered || c.detached) return;
    const { logger } = this.opts;
    c.stopRequestedAt ??= Date.now();
    const t = Math.max(0, Math.ceil(graceSeconds));
    const cmd = this.opts.stopCommand
      ? substitute(this.opts.stopCommand, c.name)
      : [c.cli, "stop", "-t", String(t), c.id];
    logger.info(`Stopping generation ${c.generation} (${reason}): ${cmd.join(" ")}`);
    const r = await this.exec(cmd, (t + 60) * 1000);
    if (r.exitCode !== 0) {
      logger.warn(`${cmd.join(" ")} failed (${firstLine(r)}); sending ${c.cli} kill`);
      await this.exec([c.cli, "kill", c.id]);
    }
    const end = Date.now() + 30_000;
    while (!c.delivered && !c.detached && Date.now() < end) {
      await this.check(c);
      if (c.delivered) break;
      await within(c.exited, 500);
    }
    if (!c.delivered && !c.detached) {
      logger.error(`Container ${c.name} still runs 30 s after ${cmd.join(" ")}`);
      await this.finish(c, null);
    }
  }

  async adopt(record: ChildRecord): Promise<boolean> {
    const { logger } = this.opts;
    if (record.kind !== "docker") return false;
    if (this.running())
      throw new Error(`Cannot adopt generation ${record.generation}: a container is being followed`);
    const d = record.details;
    const id = typeof d["containerId"] === "string" ? d["containerId"] : null;
    const name = typeof d["container"] === "string" ? d["container"] : null;
    const cli = typeof d["cli"] === "string" ? d["cli"] : "docker";
    if (id === null || name === null) {
      logger.warn(`Cannot adopt generation ${record.generation}: the record has no container id`);
      return false;
    }
    const r = await this.inspect(cli, id);
    if (r.kind === "gone") {
      logger.warn(
        `Cannot adopt generation ${record.generation}: container ${name} (${id.slice(0, 12)}) no longer exists`,
      );
      return false;
    }
    const str = (v: unknown) => (typeof v === "string" ? v : null);
    const num = (v: unknown) => (typeof v === "number" ? v : 0);
    const cursor: LogCursor = {
      stdout: { ts: str(d["outTs"]), n: num(d["outN"]) },
      stderr: { ts: str(d["errTs"]), n: num(d["errN"]) },
    };
    this.name = name;
    const c = this.newContainer(record.generation, name, id, cli, record.startedAt, cursor);
    this.cur = c;
    this.follow(c);
    // It may have ended while no monitor watched: look now.
    setTimeout(() => void this.check(c), 0);
    logger.info(`Adopted generation ${record.generation}: container ${name} (${id.slice(0, 12)})`);
    return true;
  }

  async detach(): Promise<void> {
    const c = this.cur;
    if (c === null || c.delivered || c.detached) return;
    c.detached = true;
    if (c.poll !== null) clearInterval(c.poll);
    if (c.respawn !== null) clearTimeout(c.respawn);
    c.waiter?.kill("SIGKILL");
    const logs = c.logs;
    if (logs !== null) {
      logs.proc.kill("SIGKILL");
      await logs.done;
    }
    this.opts.logger.info(
      `Detached from generation ${c.generation}; container ${c.name} keeps running (\`${c.cli} stop -t 30 ${c.name}\` stops it)`,
    );
  }

  record(): ChildRecord | null {
    const c = this.cur;
    if (c === null || c.delivered) return null;
    const cur = c.pos.cursor;
    return {
      kind: "docker",
      generation: c.generation,
      pid: null,
      pgid: null,
      startedAt: c.startedAt,
      details: {
        container: c.name,
        containerId: c.id,
        cli: c.cli,
        outTs: cur.stdout.ts,
        outN: cur.stdout.n,
        errTs: cur.stderr.ts,
        errN: cur.stderr.n,
      },
      logPath: null,
      logOffset: 0,
    };
  }

  running(): boolean {
    const c = this.cur;
    return c !== null && !c.delivered && !c.detached;
  }
}
