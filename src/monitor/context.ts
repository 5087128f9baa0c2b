/**
 * @module
 * The monitor's shared, explicit state: what it was built with ({@link MonitorDeps}), what it knows
 * about the current child and the decision in progress, and the few helpers every part uses
 * (the decision queue, phase changes, notifications, recording an outcome).
 *
 * The monitor is one object split by responsibility into parts that each read and change this
 * context and call one another through {@link MonitorParts}:
 *
 * | file | part |
 * |---|---|
 * | monitor.ts | the event loop and lifecycle: run, lines/exits/ticks in, signals, finish |
 * | episodes.ts | gathering detections into episodes, settling one, writing the incident |
 * | healing.ts | whether and whom to ask: session mode, budgets, rules and agent in order |
 * | actions.ts | applying an outcome (restart, env, custom command, pause, abort) and the fallback |
 * | launching.ts | launch, restart, schedule, stopping the child on purpose |
 * | exits.ts | an exit of the current child, and scheduler requeues |
 * | verification.ts | verification windows, regressions, keep/revert, the attempts ledger |
 * | operator.ts | the control inbox and its commands (pause, resume, approve, abort) |
 * | session-actions.ts | actions queued by a Claude Code session |
 * | signals.ts | samplers and probes, completion, max_run_seconds, checkpoints (issue 11) |
 */
import type { ConfigData } from "../config/schema.ts";
import type {
  Action,
  ChildExit,
  Detection,
  HealerOutcome,
  Notification,
  NotificationDetail,
  Stream,
} from "../core/types.ts";
import type { Healer } from "../healers/types.ts";
import type { AppliedOutcome, IncidentRef, IncidentStore } from "../incidents/types.ts";
import type { Journal } from "../journal/journal.ts";
import type { Notifier } from "../notify/types.ts";
import type { SessionBatch } from "../session/queue.ts";
import type { SignalRuntime } from "../signals/runtime.ts";
import type { Supervisor, SupervisorSink } from "../supervisors/types.ts";
import type { LineBatch } from "../util/byte-lines.ts";
import type { WriteGate } from "../util/disk-full.ts";
import type { Logger } from "../util/logger.ts";
import type { RunCommandResult } from "../util/run-command.ts";
import type { Actions } from "./actions.ts";
import { DecisionQueue } from "./decision-queue.ts";
import type { Episode } from "./episode.ts";
import type { Episodes } from "./episodes.ts";
import { AfterLines, RingBuffer } from "./excerpt.ts";
import type { Exits } from "./exits.ts";
import type { Healing } from "./healing.ts";
import type { Launching } from "./launching.ts";
import type { OperatorInput } from "./operator.ts";
import { restartsExhausted } from "./policy.ts";
import type { SessionActions } from "./session-actions.ts";
import type { Signals } from "./signals.ts";
import type { Phase, StateStore } from "./state.ts";
import type { Verification } from "./verification.ts";

/** The detector set as the monitor uses it (implemented in src/detectors). */
export interface DetectorFanout {
  observeLine(text: string, stream: Stream, at: number, generation: number): Detection[];
  observeExit(exit: ChildExit): Detection[];
  observeTick(now: number, childAlive: boolean, generation: number): Detection[];
  flush(at: number, generation: number): Detection[];
  onChildStart(generation: number, at: number): void;
  /** Lines of the current child observed so far (a detection's `meta.line_no` counts in it). */
  linesSeen?(): number;
  /** The bytes ingest path (src/detectors/set.ts `observeBytes`), when this fanout has one. */
  readonly canObserveBytes?: boolean;
  observeBytes?(
    bytes: Uint8Array,
    from: number,
    to: number,
    tags: Int8Array,
    maxLine: number,
    at: number,
    generation: number,
    batch: LineBatch,
  ): number;
  /** The detections of the line {@link observeBytes} stopped after. */
  takeFound?(): Detection[];
}

/** Everything the monitor needs, built by src/monitor/build.ts (or by tests). */
export interface MonitorDeps {
  config: ConfigData;
  configPath: string | null;
  /** `run --follow`: each line of the job is echoed here as it is read (null: not echoed). */
  echo: ((text: string, stream: Stream) => void) | null;
  version: string;
  logger: Logger;
  createSupervisor(sink: SupervisorSink): Supervisor;
  detectors: DetectorFanout;
  /** The rule healer (tried first). */
  rules: Healer;
  /** The coding agent, or null when healing is rules-only. */
  agent: Healer | null;
  /** `session`: a Claude Code session heals; the monitor only detects, records and queues. */
  healingMode: "builtin" | "session";
  /** Touched after every incident in session mode (wakes the session's Stop hook). */
  sessionMarker: string;
  /** Session mode: the queue of actions a Claude Code session decided (`autosentry session apply`). */
  sessionQueue: { drain(): SessionBatch } | null;
  /** Fix verification outcomes: keep (optionally merge) or revert an agent's fix branch. */
  fixes: {
    keep(fix: unknown, autoMerge: boolean): Promise<string>;
    revert(fix: unknown): Promise<string>;
    /** Push the kept fix and open a pull request (`healing.github.open_pr`); resolves with its URL. */
    openPullRequest(fix: unknown, incidentId: string): Promise<string>;
  };
  /** `.autosentry/attempts.tsv`. */
  ledger: {
    append(a: {
      incident_id: string;
      detector: string;
      source: string;
      branch: string | null;
      description: string;
    }): void;
    update(
      incidentId: string,
      source: string,
      status: "kept" | "regressed" | "crashed" | "discarded",
      durationSeconds: number,
    ): void;
  };
  store: IncidentStore;
  notifier: Notifier;
  journal: Journal;
  /**
   * What the journal and the incident store wrote without fsync (src/util/deferred-sync.ts):
   * started right after a restart is issued, awaited before the monitor exits. Absent: they sync
   * as they write.
   */
  durability?: { now(): void; flush(): Promise<void> };
  /** When to collect garbage (garbage.ts); absent: the collector's own policy only. */
  garbage?: { cycleEnded(now: number): void; tick(now: number): void };
  state: StateStore;
  controlFile: string;
  fingerprint(d: Detection): string;
  runCommand(
    argv: string[],
    opts: { cwd: string; env: Record<string, string>; timeoutMs: number },
  ): Promise<RunCommandResult>;
  /** Parses an ACTION block out of a custom command's output (null when there is none). */
  parseActionBlock(text: string): Action | null;
  /** The monitor's environment (default process.env). */
  env?: Record<string, string | undefined>;
  /** True when this monitor continues a run whose monitor died (see {@link continuesRun}). */
  continuing: boolean;
  /** Applied to free text kept in state.json (messages, reasons): state.json keeps no secrets. */
  redact?: (text: string) => string;
  /** Tell the redactor about values set at run time (an env overlay): hidden wherever they appear. */
  learnSecrets?: (env: Record<string, string>) => void;
  /** issue 11: samplers, probes, metric series and checkpoints (null or absent: none configured). */
  signals?: SignalRuntime | null;
  /** A full disk is said once for every writer (src/util/disk-full.ts; issue 16, finding 9). */
  writeGate?: WriteGate;
}

/** The parts of the monitor, one per file (see the table in this module's comment). */
export interface MonitorParts {
  episodes: Episodes;
  healing: Healing;
  actions: Actions;
  launching: Launching;
  exits: Exits;
  verification: Verification;
  operator: OperatorInput;
  session: SessionActions;
  signals: Signals;
}

/** An incident that ended with nothing applied while its child was still alive. */
export interface Unresolved {
  generation: number;
  detections: Detection[];
  incident: IncidentRef;
}

/** The state every part of one monitor shares. Persistent state is `s` (state.json); the rest lives as long as the monitor. */
export class MonitorContext {
  readonly cfg: ConfigData;
  readonly log: Logger;
  readonly env: Record<string, string | undefined>;
  /** The rolling log buffer copied into each incident. */
  readonly excerpt: RingBuffer;
  /** Lines arriving after an incident was written, for its log_excerpt.txt. */
  readonly after: AfterLines;
  readonly queue: DecisionQueue;
  /** The backend; set by the monitor right after construction (it needs the monitor's sink). */
  sup!: Supervisor;
  /** The other parts; set by the monitor once all exist. */
  parts!: MonitorParts;
  /** Stop the monitor once (the lifecycle in monitor.ts). */
  finish!: (code: number, reason: string, phase: Phase) => Promise<void>;

  // --- the child ---
  /** The generation of the current child (the last one launched or adopted). */
  gen = 0;
  childAlive = false;
  /** When the last child was found dead (the dead-child watchdog), null while one runs. */
  deadSinceMs: number | null = null;
  /** A launch succeeded in this monitor (the first failed launch gives up; later ones fall back). */
  launchedThisRun = false;
  /**
   * Generations already decided (stopped on purpose, or being replaced): their exit and late
   * detections are not handled again. Pruned at each launch ({@link forgetOldGenerations}).
   */
  readonly condemned = new Set<number>();
  /** Generations whose exit arrived and waits in the decision queue. */
  readonly exitPending = new Set<number>();
  /** Resolvers waiting for a generation's exit (stopping a child on purpose). */
  readonly exitWaiters = new Map<number, Array<() => void>>();

  // --- decisions ---
  /** The failure episode gathering detections, if any. */
  episode: Episode | null = null;
  /** The last incident that ended with nothing applied while its child was still alive. */
  unresolved: Unresolved | null = null;
  /**
   * The incident a killed predecessor already wrote for the generation whose exit this monitor
   * recovers: settling that exit uses it instead of writing the same failure twice (issue 16).
   */
  recorded: { generation: number; incident: IncidentRef } | null = null;
  /** The generation whose exit this monitor recovers at start (a killed predecessor's child), or null. */
  recovering: number | null = null;
  /** Generations whose exit is recorded but whose exit file the backend still keeps (see exitRecorded). */
  private readonly unacked = new Set<number>();
  /** The scheduled launch (backoff), if any. */
  restartTimer: ReturnType<typeof setTimeout> | null = null;
  /** Aborts the healers at work (on finish). */
  healAbort: AbortController | null = null;
  /** Why the agent can no longer be used, or null. */
  agentDisabled: string | null = null;

  // --- the monitor itself ---
  /** finish() has begun: inputs are ignored from now on. */
  finishing = false;
  /** Writes that overlap a restart (an outcome note); finish() waits for them. */
  readonly background = new Set<Promise<unknown>>();
  /** Outcome notes written in the background, by incident id (recordInBackground). */
  private readonly notes = new Map<string, Promise<void>>();
  /** finish() is done: queued decisions are dropped. */
  finished = false;

  constructor(readonly deps: MonitorDeps) {
    this.cfg = deps.config;
    this.log = deps.logger;
    this.env = deps.env ?? process.env;
    this.excerpt = new RingBuffer(this.cfg.monitor.log_excerpt_lines);
    this.after = new AfterLines(
      (id, lines) => deps.store.appendAfterLines(id, lines),
      (err) =>
        this.writeFailed(
          "an incident folder",
          err,
          `Cannot append to the incident's log excerpt: ${errMsg(err)}`,
        ),
    );
    this.queue = new DecisionQueue(
      () => this.finished,
      (err) => {
        this.log.error(`internal error while deciding: ${errMsg(err)}`);
        if (process.env.AUTOSENTRY_DEBUG) this.log.error((err as Error).stack ?? "");
      },
    );
  }

  /** state.json's content (persisted by {@link MonitorDeps.state}). */
  get s() {
    return this.deps.state.state;
  }

  /** The restart policy, with an operator's `set max_restarts N` (from a chat thread) applied. */
  get policy() {
    const p = this.cfg.process.restart_policy;
    const o = (this.s.user.operator_overrides as { max_restarts?: unknown } | undefined)?.max_restarts;
    return typeof o === "number" ? { ...p, max_restarts: o } : p;
  }

  /** Run `fn` after every earlier decision finished (see decision-queue.ts). */
  serial(fn: () => Promise<void> | void): Promise<void> {
    return this.queue.run(fn);
  }

  red(text: string): string {
    return this.deps.redact ? this.deps.redact(text) : text;
  }

  setPhase(phase: Phase): void {
    if (this.s.phase !== phase) {
      this.s.phase = phase;
      this.deps.state.changed();
    }
  }

  /**
   * The exit of `generation` is recorded (handled, or not to be handled: stopped on purpose, the
   * monitor stopping): state.json stops naming that child, and once a write of state.json says so
   * the backend may drop its copy of the exit (local: run/exit-N.json). Until then a monitor
   * killed here leaves the exit to the next one, which handles it (issue 16).
   */
  exitRecorded(generation: number): void {
    if (this.s.child?.generation === generation) this.s.child = null;
    this.deps.garbage?.cycleEnded(Date.now());
    // After finish() (a decision that ended the run): its final state.json names no child.
    if (this.finished) {
      this.sup.exitRecorded?.(generation);
      return;
    }
    this.unacked.add(generation);
    // finish() drops them after its final write; no state.json write may start after that one.
    if (this.finishing) return;
    void this.deps.state.whenWritten().then(() => {
      if (this.unacked.delete(generation)) this.sup.exitRecorded?.(generation);
    });
  }

  /**
   * Generation `current` is being launched: forget what is kept about generations before its
   * predecessor. Nothing asks about them any more: lines and exits of a generation other than the
   * current one are not handled, and an episode of one settles, in the decision queue, before the
   * launch after next (the launch of `current` is itself a decision). Without this the set grew
   * by one generation per restart (issue 16, crash cycles).
   */
  forgetOldGenerations(current: number): void {
    for (const g of this.condemned) if (g < current - 1) this.condemned.delete(g);
  }

  /** Drop every recorded exit's copy now (the monitor's final state.json was written). */
  ackRecordedExits(): void {
    for (const g of this.unacked) this.sup.exitRecorded?.(g);
    this.unacked.clear();
  }

  /** The exit code when giving up: the child's own failure code, else 1. */
  exitCodeForGiveUp(): number {
    const c = this.s.last_exit_code;
    return c !== null && c !== 0 ? c : 1;
  }

  /** Record an incident's outcome (never throws). */
  /**
   * Record an outcome without holding up what follows (the restart): the incident folder itself
   * was complete before; this only adds the outcome. Writes of one incident stay in order (the
   * store queues them) and finish() waits for these.
   */
  recordInBackground(incident: IncidentRef | null, applied: AppliedOutcome): void {
    if (!incident) return;
    // Issue 13: a turn of the event loop later (setImmediate), so that a zero-delay restart, which
    // runs within this decision, has sent its request before the note is written (the rewrite of
    // incident.json and report.md cost 0.7-2 ms in front of the restart). Later records of the
    // same incident wait for this one (`notes`), so they stay in order.
    const p = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.writeOutcome(incident, applied),
    );
    this.notes.set(incident.id, p);
    this.background.add(p);
    void p.finally(() => {
      this.background.delete(p);
      if (this.notes.get(incident.id) === p) this.notes.delete(incident.id);
    });
  }

  async record(incident: IncidentRef | null, applied: AppliedOutcome): Promise<void> {
    if (!incident) return;
    const earlier = this.notes.get(incident.id);
    if (earlier) await earlier;
    await this.writeOutcome(incident, applied);
  }

  private async writeOutcome(incident: IncidentRef, applied: AppliedOutcome): Promise<void> {
    try {
      await this.deps.store.recordOutcome(incident.id, applied);
      this.deps.writeGate?.ok("an incident folder");
    } catch (err) {
      this.writeFailed(
        "an incident folder",
        err,
        `Cannot record the outcome of incident ${incident.id}: ${errMsg(err)}`,
      );
    }
  }

  /** Log a failed write (`message`), unless it is a full disk: the write gate says that once. */
  writeFailed(what: string, err: unknown, message: string): void {
    if (this.deps.writeGate?.failed(what, err)) return;
    this.log.error(message);
  }

  notifyIncident(
    d: Detection,
    outcome: HealerOutcome | null,
    incident: IncidentRef | null,
    suffix = "",
  ): void {
    if (outcome && !outcome.action.notify) return;
    const body = outcome
      ? `action=${outcome.action.kind} source=${outcome.source}${outcome.ruleName ? ` rule=${outcome.ruleName}` : ""} incident=${incident?.id ?? "?"}`
      : `incident=${incident?.id ?? "?"} ${suffix}`.trim();
    this.notify({
      kind: d.kind === "anomaly" ? "anomaly" : "recovery",
      title: `[${d.detector}] ${d.message.slice(0, 120)}`,
      body,
      incident_id: incident?.id ?? null,
      detail: this.notificationDetail(d, outcome),
    });
  }

  /** What a person reads first (src/notify/message.ts): what broke, what was done, restart k/N. */
  private notificationDetail(d: Detection, outcome: HealerOutcome | null): NotificationDetail {
    const last = d.trace?.exceptions.at(-1);
    const frame = last?.frames[0];
    const a = outcome?.action;
    const restarting = a !== undefined && (a.kind === "restart" || a.kind === "restart_with_env");
    const exhausted = restarting && restartsExhausted(this.policy, this.s.restarts);
    let action: string | undefined;
    if (a?.kind === "restart_with_env") {
      const env = Object.keys(a.set).map((k) => `${k}=${this.s.env_overlay[k] ?? a.set[k]}`);
      action = exhausted ? `gave up: max restarts reached` : `restarted with ${env.join(" ")}`;
    } else if (a?.kind === "restart") action = exhausted ? "gave up: max restarts reached" : "restarted";
    else if (a?.kind === "custom_command") action = `ran ${a.command.join(" ").slice(0, 80)}`;
    else if (a?.kind === "pause") action = "paused (until resume)";
    else if (a?.kind === "abort") action = "aborted";
    return {
      subject: subjectOf(this.cfg.process.command),
      detector: d.detector,
      fingerprint: this.deps.fingerprint(d),
      what: d.message.slice(0, 160),
      action,
      rule: outcome?.ruleName ?? null,
      // The restart this action starts (launching counts it when it happens).
      restart: restarting && !exhausted ? this.s.restarts + 1 : undefined,
      max_restarts: restarting ? this.policy.max_restarts : undefined,
      exception: last ? `${last.type ? `${last.type}: ` : ""}${last.message}`.slice(0, 300) : undefined,
      frame: frame
        ? `${frame.file}:${frame.line}${frame.function ? ` in ${frame.function}` : ""}`
        : undefined,
      healed: a !== undefined && a.kind !== "abort" && !exhausted,
    };
  }

  notify(n: Notification): void {
    try {
      this.deps.notifier.notify(n);
    } catch (err) {
      this.log.error(`notifier failed: ${errMsg(err)}`);
    }
  }
}

export function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `train.py` for `python train.py --lr 1`: the script a person recognises, else the program. */
export function subjectOf(argv: readonly string[]): string {
  const script = argv.slice(1).find((a) => !a.startsWith("-") && /\.[A-Za-z0-9]+$/.test(a));
  const pick = script ?? argv[0] ?? "job";
  return pick.split("/").at(-1) ?? pick;
}
