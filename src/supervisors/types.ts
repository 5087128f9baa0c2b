/**
 * @module
 * The Supervisor seam: one backend (local, slurm, docker, attach) that launches, follows and stops
 * the supervised work. A supervisor reports lines and exits to a {@link SupervisorSink}; it never
 * decides anything. Everything it needs to find its child again after the monitor itself died is
 * in the {@link ChildRecord} it returns, which the monitor persists in state.json.
 */
import type { ChildExit, ProcessKind, Stream } from "../core/types.ts";
import type { Logger } from "../util/logger.ts";

/** Where a supervisor delivers what it observes. Calls arrive in order for one generation. */
export interface SupervisorSink {
  line(text: string, stream: Stream, generation: number): void;
  /**
   * The bytes path (issue 13), optional: complete lines at `bytes[from, to)`, each a tag byte
   * (`tags[byte]` its stream code, 0 stdout and 1 stderr; -1: not a line, stop there), the line's
   * UTF-8 text and `\n`, `\r` or `\r\n`. The sink takes as many as it wants, each exactly as
   * {@link line} would take it decoded, none with more than `maxLine` bytes of text, and returns
   * where it stopped (`from`: none; the supervisor then passes the next line to {@link line}).
   * Only the local supervisor's capture frames use it.
   */
  lineBytes?(
    bytes: Uint8Array,
    from: number,
    to: number,
    tags: Int8Array,
    maxLine: number,
    generation: number,
  ): number;
  /** The child of `exit.generation` is gone. Called once per generation, after its last line. */
  exit(exit: ChildExit): void;
}

/** What to launch. The monitor resolves env overlays (`half`, `double`) before calling start. */
export interface LaunchSpec {
  generation: number;
  argv: string[];
  /** Absolute working directory. */
  cwd: string;
  /** The child's complete environment (monitor env + process.env + overlay). */
  env: Record<string, string>;
  /** Only the variables autosentry sets (process.env + overlay): what docker passes with -e. */
  envOverrides: Record<string, string>;
}

/** Enough to re-adopt a running child after a monitor restart. Stored as JSON in state.json. */
export interface ChildRecord {
  kind: ProcessKind;
  generation: number;
  /** The workload's pid (SLURM: null; docker: null). */
  pid: number | null;
  /** Process group to signal (local: the capture shim's pid, which leads the group). */
  pgid: number | null;
  /** Epoch ms. */
  startedAt: number;
  /** Kind-specific details (shim pid and its /proc start time, exit file, job id, container…). */
  details: Record<string, string | number | boolean | null>;
  /** File the output can be followed from when no pipe is available, and how far it was read. */
  logPath: string | null;
  logOffset: number;
}

export type StopReason = "restart" | "pause" | "abort" | "shutdown";

export interface Supervisor {
  readonly kind: ProcessKind;
  /** What this backend can do; the monitor refuses actions a backend cannot honour. */
  readonly capabilities: { restart: boolean; stop: boolean };
  /** Launch a new child. Rejects with an Error whose message says what failed. */
  start(spec: LaunchSpec): Promise<ChildRecord>;
  /** Follow a child launched by an earlier monitor. Resolves false when it is already gone. */
  adopt(record: ChildRecord): Promise<boolean>;
  /**
   * Stop the child: SIGTERM (or the backend's equivalent) to the whole group, wait up to
   * `graceSeconds`, then SIGKILL the group, and make sure no member survives. Resolves after the
   * sink has received the exit (with exitClass `stopped` when it died of our signals).
   */
  stop(reason: StopReason, graceSeconds: number): Promise<void>;
  /** Stop following without touching the child (the monitor is exiting and leaves it running). */
  detach(): Promise<void>;
  /**
   * After {@link adopt} resolved false: when the record's child ended while no monitor ran and the
   * backend knows how (local: the exit file), deliver the lines it printed that nobody read and its
   * exit to the sink, and resolve true. Resolves false when nothing is known.
   */
  recoverExit?(record: ChildRecord, opts?: { fromLaunch?: boolean }): Promise<boolean>;
  /**
   * Release what the backend keeps between generations (local: the serving capture process). The
   * monitor calls it when it stops; a backend without such state need not implement it.
   */
  close?(): Promise<void>;
  /**
   * Send a signal to the running work without stopping it (`process.resume.signal`, before a
   * deliberate stop) where the backend has no process group the monitor can signal itself
   * (slurm: `scancel --signal`; docker: `docker kill --signal`). Resolves true when it was delivered
   * to at least one process of the work, false when nothing could receive it.
   */
  signal?(sig: NodeJS.Signals): Promise<boolean>;
  /** The current child's record (its log offset moves as lines are read), or null. */
  record(): ChildRecord | null;
  /** True while a child of this supervisor is alive. */
  running(): boolean;
  /**
   * Stop children of this project that no record names (a monitor killed between launching a
   * generation and recording it in state.json left them running): `keep` is the recorded one, to
   * be adopted. Optional: only backends that can find their own children implement it.
   */
  reapOrphans?(keep: ChildRecord | null): Promise<number[]>;
  /**
   * The monitor has recorded the exit of `generation` (its incident written, state.json saying so):
   * the backend may forget what it kept to deliver it again after a monitor crash (local: the
   * capture process's exit file, which nobody else deletes; issue 16). Optional.
   */
  exitRecorded?(generation: number): void;
  /**
   * When a monitor starts: forget every kept exit except that of `unrecorded` (the generation
   * state.json still names, whose exit may not have been handled), since the exits of all other
   * generations were recorded. Optional.
   */
  dropRecordedExits?(unrecorded: number | null): void;
}

/** What the backends that drive an external tool (sbatch, docker) share in their options. */
export interface ExternalBackendOptions {
  sink: SupervisorSink;
  logger: Logger;
  maxLineLength: number;
  /** Environment of the tool's calls (the monitor's, plus process.env). */
  env: Record<string, string>;
  /** Working directory of those calls. */
  cwd: string;
  /** How often the backend asks about the job or container. */
  pollIntervalMs: number;
}
