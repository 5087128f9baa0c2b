/**
 * @module
 * The monitor: one supervised workload, its detectors, healers, incidents and restart policy.
 *
 * It is event-driven, never a busy loop. Lines and exits arrive from the supervisor; a one-second
 * tick drives time-based checks (stalls, verification windows, the stable-child reset, the control
 * inbox, the heartbeat); timers drive settling and scheduled restarts. Decisions (settling a
 * failure, handling an exit, applying an action, operator commands) run one at a time through
 * {@link Monitor.serial}, while lines keep flowing: healing never blocks ingestion.
 *
 * The decision table (state × event) is documented in docs/architecture.md; keep them in step.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ConfigData } from "../config/schema.ts";
import type { Action, ChildExit, Detection, HealerOutcome, Notification, Stream } from "../core/types.ts";
import { childEnvironment, resolveOverlay } from "../healers/env-overlay.ts";
import type { Healer } from "../healers/types.ts";
import type { AppliedOutcome, IncidentRef, IncidentStore } from "../incidents/types.ts";
import type { Journal } from "../journal/journal.ts";
import type { Notifier } from "../notify/types.ts";
import type { SessionAction, SessionBatch } from "../session/queue.ts";
import type { Supervisor, SupervisorSink } from "../supervisors/types.ts";
import type { Logger } from "../util/logger.ts";
import { procStartTime } from "../util/proc.ts";
import type { RunCommandResult } from "../util/run-command.ts";
import { type ControlCommand, readControl } from "./control.ts";
import { type Episode, primaryDetection } from "./episode.ts";
import { type AfterCollector, RingBuffer } from "./excerpt.ts";
import {
  failureSignature,
  isStable,
  pruneWindow,
  type RestartCause,
  rateLimited,
  restartDelaySeconds,
  restartsExhausted,
  restartsLabel,
} from "./policy.ts";
import { type PendingVerification, type Phase, pushCapped, type StateStore } from "./state.ts";

/** The detector set as the monitor uses it (implemented in src/detectors). */
export interface DetectorFanout {
  observeLine(text: string, stream: Stream, at: number, generation: number): Detection[];
  observeExit(exit: ChildExit): Detection[];
  observeTick(now: number, childAlive: boolean, generation: number): Detection[];
  flush(at: number, generation: number): Detection[];
  onChildStart(generation: number, at: number): void;
}

/** Everything the monitor needs, built by src/monitor/build.ts (or by tests). */
export interface MonitorDeps {
  config: ConfigData;
  configPath: string | null;
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
}

const TICK_MS = 1000;
const AFTER_LINES_MAX_WAIT_MS = 10_000;

export class Monitor {
  private readonly cfg: ConfigData;
  private readonly log: Logger;
  private readonly sup: Supervisor;
  private readonly env: Record<string, string | undefined>;
  private readonly excerpt: RingBuffer;
  private readonly after: AfterCollector[] = [];
  private readonly condemned = new Set<number>();
  private episode: Episode | null = null;
  /** The last incident that ended with nothing applied while its child was still alive. */
  private unresolved: { generation: number; detections: Detection[]; incident: IncidentRef } | null = null;
  private childAlive = false;
  private gen = 0;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private queue: Promise<void> = Promise.resolve();
  private finished = false;
  private finishing = false;
  private resolveDone!: (code: number) => void;
  private readonly done: Promise<number>;
  private launchedThisRun = false;
  private deadSinceMs: number | null = null;
  private signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  private readonly exitWaiters = new Map<number, Array<() => void>>();
  private agentDisabled: string | null = null;
  /** Generations whose exit arrived and waits in the decision queue. */
  private readonly exitPending = new Set<number>();
  private healAbort: AbortController | null = null;

  constructor(private readonly deps: MonitorDeps) {
    this.cfg = deps.config;
    this.log = deps.logger;
    this.env = deps.env ?? process.env;
    this.excerpt = new RingBuffer(this.cfg.monitor.log_excerpt_lines);
    this.done = new Promise<number>((resolve) => {
      this.resolveDone = resolve;
    });
    const sink: SupervisorSink = {
      line: (text, stream, generation) => this.onLine(text, stream, generation),
      exit: (exit) => this.onExit(exit),
    };
    this.sup = deps.createSupervisor(sink);
  }

  private red(text: string): string {
    return this.deps.redact ? this.deps.redact(text) : text;
  }

  private get s() {
    return this.deps.state.state;
  }

  private get policy() {
    return this.cfg.process.restart_policy;
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle of the monitor itself

  /** Start supervising; resolves with the process exit code when the monitor stops. */
  async run(): Promise<number> {
    const s = this.s;
    const continuing = this.deps.continuing;
    s.monitor = {
      pid: process.pid,
      started_at: new Date().toISOString(),
      proc_start: procStartTime(process.pid),
      version: this.deps.version,
      host: os.hostname(),
    };
    s.stop_reason = null;
    s.exit_code = null;
    s.max_restarts = this.policy.max_restarts;
    this.gen = s.generation;
    this.deps.journal.write("monitor_started", {
      continuing,
      config: this.deps.configPath,
      command: this.cfg.process.command,
      version: this.deps.version,
    });
    this.log.info(
      `autosentry ${this.deps.version} starting — supervisor=${this.cfg.process.kind} cmd=${JSON.stringify(this.cfg.process.command)}`,
    );
    this.notify({
      kind: "start",
      title: "autosentry monitor starting",
      body: `cmd=${this.cfg.process.command.join(" ")}`,
      incident_id: null,
    });
    this.installSignalHandlers();
    this.tickTimer = setInterval(() => this.onTick(), TICK_MS);

    await this.serial(async () => {
      if (continuing && s.child) {
        const record = s.child;
        let adopted = false;
        try {
          adopted = await this.sup.adopt(record);
        } catch (err) {
          this.log.error(`Cannot re-adopt the child from the previous monitor: ${errMsg(err)}`);
        }
        if (adopted) {
          this.gen = record.generation;
          this.childAlive = true;
          this.setPhase("running");
          s.child_running = true;
          this.deps.journal.write("child_adopted", { pid: record.pid, generation: record.generation });
          this.log.info(`re-adopted the running child (pid ${record.pid}, generation ${record.generation})`);
          this.deps.state.changed();
          return;
        }
        this.log.info(`the previous monitor's child (pid ${record.pid}) is no longer running`);
        s.child = null;
        s.child_running = false;
      }
      if (s.desired === "paused") {
        this.setPhase("paused");
        this.log.info(
          `the job is paused (since ${s.paused_at ?? "?"} by ${s.paused_by ?? "?"}); run \`autosentry resume\` to start it`,
        );
        this.deps.state.changed();
        return;
      }
      if (continuing && s.next_restart_at) {
        const delay = Math.max(0, Date.parse(s.next_restart_at) - Date.now());
        this.log.info(`continuing the scheduled restart in ${Math.ceil(delay / 1000)}s`);
        this.setPhase("backoff");
        this.restartTimer = setTimeout(() => void this.serial(() => this.launch("scheduled restart")), delay);
        return;
      }
      await this.launch("initial start");
    });
    return this.done;
  }

  /** Run `fn` after every earlier decision finished; errors are logged, never thrown. */
  private serial(fn: () => Promise<void> | void): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.finished) return;
      try {
        await fn();
      } catch (err) {
        this.log.error(`internal error while deciding: ${errMsg(err)}`);
        if (process.env.AUTOSENTRY_DEBUG) this.log.error((err as Error).stack ?? "");
      }
    });
    this.queue = next;
    return next;
  }

  private setPhase(phase: Phase): void {
    if (this.s.phase !== phase) {
      this.s.phase = phase;
      this.deps.state.changed();
    }
  }

  private installSignalHandlers(): void {
    const onTerm = (sig: NodeJS.Signals, n: number) => () => {
      if (this.finishing) {
        if (sig === "SIGINT") this.log.warn("second interrupt: stopping the child without waiting");
        void this.sup.stop("shutdown", 0);
        return;
      }
      this.log.info(`${sig} received: stopping`);
      void this.finish(128 + n, `Termination signal received (${sig})`, "stopped");
    };
    const onHup = () => {
      this.log.info(
        "SIGHUP received: detaching; the child keeps running and a new `autosentry run` re-adopts it",
      );
      void this.finish(129, "Monitor detached on SIGHUP; the child keeps running", "detached");
    };
    const handlers: Array<[NodeJS.Signals, () => void]> = [
      ["SIGINT", onTerm("SIGINT", 2)],
      ["SIGTERM", onTerm("SIGTERM", 15)],
      ["SIGHUP", onHup],
    ];
    for (const [sig, h] of handlers) process.on(sig, h);
    this.signalHandlers = handlers;
  }

  /** Stop the monitor once: stop (or detach from) the child, persist, notify, resolve run(). */
  private async finish(code: number, reason: string, phase: Phase): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    this.healAbort?.abort();
    const s = this.s;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.episode?.timer) clearTimeout(this.episode.timer);
    s.stop_reason = this.red(reason);
    s.exit_code = code;
    s.next_restart_at = null;
    this.setPhase(phase === "detached" ? "detached" : "stopping");
    const logLine = `stopping: ${reason} (exit ${code})`;
    if (phase === "gave_up") this.log.log("ERROR", logLine);
    else this.log.info(logLine);
    if (phase === "detached") {
      s.child = this.sup.record() ?? s.child;
      await this.sup.detach();
    } else if (this.sup.running()) {
      if (this.childAlive) this.condemned.add(this.gen);
      try {
        await this.sup.stop(phase === "aborted" ? "abort" : "shutdown", this.cfg.process.stop_grace_seconds);
      } catch (err) {
        this.log.error(`Cannot stop the child cleanly: ${errMsg(err)}`);
      }
      s.child = null;
    } else {
      s.child = null;
    }
    this.flushAfterCollectors(true);
    if (phase !== "detached") this.setPhase(phase);
    s.child_running = this.childAlive && phase === "detached";
    this.deps.journal.write("monitor_stopped", {
      exit_code: code,
      reason,
      phase,
      restarts: s.restarts,
      restarts_total: s.restarts_total,
    });
    this.notify({ kind: "exit", title: "autosentry monitor stopping", body: reason, incident_id: null });
    await this.deps.notifier.close(5000);
    this.deps.state.dispose();
    await this.deps.state.flush(true);
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    this.finished = true;
    this.log.info("autosentry stopped");
    this.resolveDone(code);
  }

  /**
   * Stop from outside (a pipeline controller's deadline or cancellation): stops the child and
   * resolves {@link run} with `code`.
   */
  requestStop(code: number, reason: string): Promise<void> {
    return this.serial(() => this.finish(code, reason, "stopped"));
  }

  // ------------------------------------------------------------------------------------------
  // input: lines, exits, ticks

  private onLine(text: string, stream: Stream, generation: number): void {
    this.excerpt.push(text);
    if (this.after.length > 0) this.collectAfter(text, generation);
    if (generation !== this.gen || this.condemned.has(generation) || this.finishing) return;
    const found = this.deps.detectors.observeLine(text, stream, Date.now(), generation);
    for (let i = 0; i < found.length; i++) this.onDetection(found[i]!);
  }

  private onExit(exit: ChildExit): void {
    const waiters = this.exitWaiters.get(exit.generation);
    if (exit.generation === this.gen) {
      this.childAlive = false;
      this.deadSinceMs = Date.now();
      const s = this.s;
      s.child_running = false;
      s.child_dead_since = new Date(exit.at).toISOString();
      s.last_exit_code = exit.code;
      s.last_exit_class = exit.exitClass;
      s.child = null;
      this.deps.state.changed();
    }
    if (!this.condemned.has(exit.generation) && !this.finishing && exit.generation === this.gen) {
      for (const d of this.deps.detectors.flush(exit.at, exit.generation)) this.onDetection(d);
      for (const d of this.deps.detectors.observeExit(exit)) this.onDetection(d);
      this.exitPending.add(exit.generation);
      void this.serial(() => this.handleExit(exit));
    }
    this.deps.journal.write("child_exited", {
      generation: exit.generation,
      exit_code: exit.code,
      signal: exit.signal,
      exit_class: exit.exitClass,
    });
    this.log.info(
      `child exited (generation ${exit.generation}, ${exit.exitClass}${exit.code !== null ? `, code ${exit.code}` : ""}${exit.signal ? `, ${exit.signal}` : ""})`,
    );
    this.flushAfterCollectorsFor(exit.generation);
    if (waiters) {
      this.exitWaiters.delete(exit.generation);
      for (const w of waiters) w();
    }
  }

  private onTick(): void {
    if (this.finishing) return;
    const now = Date.now();
    const s = this.s;
    for (const d of this.deps.detectors.observeTick(now, this.childAlive, this.gen)) this.onDetection(d);
    this.checkVerifications(now);
    if (
      this.childAlive &&
      (s.consecutive_failures > 0 || s.restarts > 0) &&
      s.child_started_at &&
      isStable(this.policy, Date.parse(s.child_started_at), now)
    ) {
      this.log.info(
        `the child has run ${this.policy.backoff_reset_seconds}s without failing: restart count and backoff reset`,
      );
      this.deps.journal.write("stable", {
        restarts: s.restarts,
        consecutive_failures: s.consecutive_failures,
      });
      s.consecutive_failures = 0;
      s.restarts = 0;
      this.deps.state.changed();
    }
    this.pollControl();
    this.pollSessionQueue();
    this.checkWatchdog(now);
    this.flushAfterCollectors(false);
    const rec = this.sup.record();
    if (rec) s.child = rec;
    this.deps.state.tick(now);
  }

  private checkWatchdog(now: number): void {
    const grace = this.cfg.monitor.dead_child_grace_seconds;
    if (grace <= 0 || this.childAlive || this.deadSinceMs === null) return;
    const phase = this.s.phase;
    if (phase === "backoff" || phase === "paused" || phase === "starting" || phase === "stopping") {
      this.deadSinceMs = now;
      return;
    }
    if (now - this.deadSinceMs >= grace * 1000) {
      this.deps.journal.write("dead_child_timeout", { seconds: grace });
      void this.serial(() =>
        this.finish(this.s.last_exit_code || 1, `No live child for ${grace} seconds`, "gave_up"),
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  // detections and failure episodes

  private onDetection(d: Detection): void {
    if (this.finishing) return;
    const level = d.kind === "anomaly" ? "ANOMALY" : "ERROR";
    this.log.log(level, `[${d.detector}] ${d.message}`);
    this.deps.journal.write("detection", {
      detector: d.detector,
      kind: d.kind,
      message: d.message,
      exception_type: d.exceptionType ?? null,
      generation: d.generation,
    });
    this.checkRegression(d);
    const ep = this.episode;
    if (ep && ep.generation === d.generation) {
      ep.detections.push(d);
      return;
    }
    if (ep) {
      // A detection from a newer child while an older episode waits: decide the old one now.
      this.settleNow();
    }
    const seed =
      d.detectorKind === "exit_code" && this.unresolved?.generation === d.generation ? this.unresolved : null;
    this.episode = {
      generation: d.generation,
      detections: seed ? [...seed.detections, d] : [d],
      openedAt: Date.now(),
      timer: null,
      incident: seed ? seed.incident : null,
    };
    if (seed) this.unresolved = null;
    // Not only while the child is known alive: its first lines can arrive before start() returns.
    // If the child exits first, its exit settles the episode and clears this timer.
    if (d.detectorKind !== "exit_code") {
      const wait = this.cfg.monitor.settle_seconds * 1000;
      const g = d.generation;
      // Once the child's exit is queued, the exit decides this episode (with the exit detection in it).
      this.episode.timer = setTimeout(() => {
        if (!this.exitPending.has(g)) this.settleNow();
      }, wait);
    }
  }

  /** Decide the open episode (queued behind earlier decisions). */
  private settleNow(): void {
    const ep = this.episode;
    if (!ep) return;
    if (ep.timer) clearTimeout(ep.timer);
    this.episode = null;
    void this.serial(() => this.settle(ep));
  }

  private async settle(ep: Episode): Promise<void> {
    if (this.condemned.has(ep.generation)) {
      this.deps.journal.write("detection_ignored", {
        generation: ep.generation,
        reason: "child already being replaced",
      });
      return;
    }
    const s = this.s;
    const primary = primaryDetection(ep.detections);
    const alive = this.childAlive && this.gen === ep.generation;

    // The identical-failure guard counts every failure, including ones no rule knows.
    const sig = this.red(failureSignature(primary));
    if (ep.incident === null) {
      if (s.identical.signature === sig) s.identical.count++;
      else s.identical = { signature: sig, count: 1 };
    }
    const cap = this.policy.max_identical_failures;
    const identicalTripped = cap > 0 && s.identical.count > cap;

    let incident = ep.incident;
    if (!incident) {
      try {
        incident = await this.deps.store.create({
          detection: primary,
          related: ep.detections,
          logExcerpt: this.excerpt.toArray(),
          state: JSON.parse(JSON.stringify(s)),
          process: {
            kind: this.cfg.process.kind,
            argv: this.cfg.process.command,
            cwd: this.cfg.process.cwd,
            pid: s.pid,
          },
          restarts: s.restarts,
          maxRestarts: this.policy.max_restarts,
          configSnapshots: this.cfg.config_snapshots,
        });
      } catch (err) {
        this.log.error(`Cannot write the incident folder: ${errMsg(err)}`);
      }
      if (incident) {
        s.last_incident_id = incident.id;
        this.deps.journal.write("incident", {
          incident_id: incident.id,
          detector: primary.detector,
          kind: primary.kind,
          message: primary.message,
        });
        this.log.info(`incident ${incident.id} written`);
        if (primary.kind === "anomaly") {
          pushCapped(s.anomalies, {
            time: new Date().toISOString(),
            detector: primary.detector,
            message: this.red(primary.message),
            incident_id: incident.id,
          });
        }
        if (this.cfg.monitor.log_excerpt_after_lines > 0 && alive) {
          this.after.push({
            incidentId: incident.id,
            generation: ep.generation,
            remaining: this.cfg.monitor.log_excerpt_after_lines,
            lines: [],
            until: Date.now() + AFTER_LINES_MAX_WAIT_MS,
          });
        }
      }
      this.deps.state.changed();
    }

    if (identicalTripped) {
      const reason = `Identical failure limit exceeded (${s.identical.count}, cap ${cap}): ${primary.message.slice(0, 200)}`;
      this.deps.journal.write("repeat_failure_limit", { count: s.identical.count, cap, signature: sig });
      await this.record(incident, { outcome: null, note: reason });
      this.notify({
        kind: "exit",
        title: `repeated failure: ${primary.message.slice(0, 100)}`,
        body: reason,
        incident_id: incident?.id ?? null,
      });
      await this.finish(this.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }

    // Healing budget per detector (a rolling hour).
    const limit = this.cfg.healing.budget.max_attempts_per_detector_per_hour;
    const now = Date.now();
    const attempts = (s.attempts_by_detector[primary.detector] ?? []).filter(
      (t) => now - Date.parse(t) < 3600_000,
    );
    s.attempts_by_detector[primary.detector] = attempts;
    let outcome: HealerOutcome | null = null;
    let note: string | undefined;
    if (this.deps.healingMode === "session") {
      note = "session mode: the incident is queued for the Claude Code session";
      this.touchSessionMarker();
    } else if (s.paused_detectors.includes(primary.detector)) {
      note = `healing is paused for detector ${primary.detector} after a regression; \`autosentry approve\` resumes it`;
      this.log.warn(note);
    } else if (limit > 0 && attempts.length >= limit) {
      note = `healing paused for detector ${primary.detector}: ${attempts.length} attempts in the last hour (budget ${limit}); \`autosentry approve\` resumes it`;
      this.log.warn(note);
    } else if (incident) {
      const r = await this.heal(incident, primary, ep.detections);
      outcome = r.outcome;
      note = r.notes.length > 0 ? r.notes.join("; ") : undefined;
    }

    const stillAlive = this.childAlive && this.gen === ep.generation;
    if (!outcome) {
      if (stillAlive) {
        const n = note ?? "No rule matched; the child is still running, so nothing was applied";
        await this.record(incident, { outcome: null, note: n });
        if (incident) this.unresolved = { generation: ep.generation, detections: ep.detections, incident };
        this.notifyIncident(primary, null, incident, "(no action applied)");
        return;
      }
      await this.record(incident, {
        outcome: null,
        note: note ?? "No rule matched; the restart policy decides",
      });
      this.notifyIncident(primary, null, incident, "(no action applied; restart policy)");
      await this.fallback(incident);
      return;
    }
    await this.apply(outcome, incident, primary, ep.generation);
  }

  /**
   * The healer chain: rules first, then the agent. Past `escalate_to_claude_after` unverified
   * restarts, or right after a rule's fix regressed for this detector, the agent goes first
   * (rules stay the fallback if the agent has nothing, or is disabled).
   */
  private async heal(
    incident: IncidentRef,
    primary: Detection,
    related: Detection[],
  ): Promise<{ outcome: HealerOutcome | null; notes: string[] }> {
    const s = this.s;
    const agent = this.agentUsable() ? this.deps.agent : null;
    const threshold =
      this.cfg.healing.escalate_to_claude_after > 0 ? this.cfg.healing.escalate_to_claude_after : 2;
    if (agent && !s.escalated && s.restarts >= threshold) {
      s.escalated = true;
      this.deps.journal.write("escalated", { restarts: s.restarts, threshold });
      this.log.log("CLAUDE", `${s.restarts} unverified restarts: escalating to the agent`);
      this.notify({
        kind: "recovery",
        title: "healer escalation",
        body: `${s.restarts} unverified restarts; the agent now handles failures before rules`,
        incident_id: incident.id,
      });
    }
    const forced = s.force_agent.includes(primary.detector);
    const order: Healer[] =
      agent && (s.escalated || forced)
        ? [agent, this.deps.rules]
        : [this.deps.rules, ...(agent ? [agent] : [])];
    if (forced) s.force_agent = s.force_agent.filter((d) => d !== primary.detector);
    const notes: string[] = [];
    const ac = new AbortController();
    this.healAbort = ac;
    // healing.budget.max_wall_seconds_per_incident bounds all healers of one incident together.
    const wallMs = this.cfg.healing.budget.max_wall_seconds_per_incident * 1000;
    const wall = setTimeout(() => {
      notes.push(`healing stopped after max_wall_seconds_per_incident (${wallMs / 1000}s)`);
      ac.abort();
    }, wallMs);
    try {
      for (const h of order) {
        if (h === agent && !this.agentUsable()) continue;
        if (h === agent) this.log.log("CLAUDE", `asking the agent about incident ${incident.id}`);
        try {
          const outcome = await h.heal({
            incidentId: incident.id,
            incidentDir: incident.dir,
            detection: primary,
            related,
            signal: ac.signal,
            notes,
          });
          if (outcome) return { outcome, notes };
        } catch (err) {
          const msg = `healer ${h.name} failed: ${errMsg(err)}`;
          this.log.error(msg);
          notes.push(msg);
        }
        if (this.finishing || ac.signal.aborted) break;
      }
    } finally {
      clearTimeout(wall);
      this.healAbort = null;
    }
    return { outcome: null, notes };
  }

  private agentUsable(): boolean {
    return this.deps.agent !== null && this.agentDisabled === null;
  }

  /** The agent cannot work (auth, quota, missing CLI): rules-only from now on, said once. */
  disableAgent(reason: string, kind: string): void {
    if (this.agentDisabled !== null) return;
    this.agentDisabled = reason;
    this.s.agent_disabled = `${kind}: ${reason}`;
    this.deps.state.changed();
    this.deps.journal.write("agent_disabled", { kind, reason });
    this.log.log("CLAUDE", `agent healing disabled (${kind}): ${reason}; continuing with rules only`);
    this.notify({
      kind: "anomaly",
      title: `agent healing disabled: ${kind}`,
      body: `${reason}. autosentry continues with rules only.`,
      incident_id: this.s.last_incident_id,
    });
  }

  private touchSessionMarker(): void {
    try {
      const f = this.deps.sessionMarker;
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, `${new Date().toISOString()}\n`);
    } catch (err) {
      this.log.error(`Cannot touch ${this.deps.sessionMarker}: ${errMsg(err)}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // actions

  private async apply(
    outcome: HealerOutcome,
    incident: IncidentRef | null,
    primary: Detection,
    generation: number,
  ): Promise<void> {
    const s = this.s;
    const action = outcome.action;
    const label = outcome.ruleName ?? outcome.source;
    if (s.desired === "paused" && action.kind !== "abort") {
      await this.record(incident, {
        outcome,
        note: "the job was paused while this was decided; nothing was applied",
      });
      this.setPhase("paused");
      return;
    }
    const attempts = s.attempts_by_detector[primary.detector] ?? [];
    s.attempts_by_detector[primary.detector] = attempts;
    pushCapped(attempts, new Date().toISOString());
    this.deps.journal.write("recovery_started", {
      incident_id: incident?.id ?? null,
      action: action.kind,
      source: outcome.source,
      rule: outcome.ruleName ?? null,
    });
    this.log.log("ACTION", `${label} → ${action.kind}${incident ? ` (incident ${incident.id})` : ""}`);

    if (action.kind === "abort") {
      await this.record(incident, { outcome });
      this.notifyIncident(primary, outcome, incident);
      await this.finish(1, `Recovery requested abort for incident ${incident?.id ?? "?"}`, "aborted");
      return;
    }
    if (action.kind === "pause") {
      await this.record(incident, { outcome });
      this.notifyIncident(primary, outcome, incident);
      await this.pause(`rule ${label}`, `incident ${incident?.id ?? "?"}`);
      return;
    }

    if (!this.sup.capabilities.restart && action.kind !== "custom_command") {
      const note = `the ${this.sup.kind} backend cannot ${action.kind === "restart_with_env" ? "restart" : action.kind} the process; nothing was applied`;
      this.log.warn(note);
      await this.record(incident, { outcome, note });
      this.notifyIncident(primary, outcome, incident);
      return;
    }
    const applied: AppliedOutcome = { outcome };
    let effective: Action = action;
    if (action.kind === "custom_command") {
      const res = await this.runCustomCommand(action);
      applied.commandResult = {
        argv: action.command,
        exitCode: res.exitCode,
        timedOut: res.timedOut,
        output: res.output,
      };
      const follow = this.deps.parseActionBlock(res.output);
      if (follow && follow.kind !== "custom_command") {
        applied.note = `the command's output asked for ${follow.kind}`;
        effective = follow;
      } else if (this.childAlive && this.gen === generation) {
        await this.record(incident, applied);
        this.deps.journal.write("recovery_applied", {
          incident_id: incident?.id ?? null,
          action: "custom_command",
        });
        this.notifyIncident(primary, outcome, incident);
        return;
      } else {
        effective = { kind: "restart", set: {}, command: [], notify: action.notify };
      }
      if (effective.kind === "abort") {
        await this.record(incident, applied);
        await this.finish(1, `Recovery requested abort for incident ${incident?.id ?? "?"}`, "aborted");
        return;
      }
      if (effective.kind === "pause") {
        await this.record(incident, applied);
        await this.pause(`rule ${label}`, `incident ${incident?.id ?? "?"}`);
        return;
      }
    }
    if (effective.kind === "restart_with_env") {
      const r = resolveOverlay(effective.set, {
        overlay: s.env_overlay,
        processEnv: this.cfg.process.env,
        monitorEnv: this.env,
      });
      Object.assign(s.env_overlay, r.values);
      applied.resolvedEnv = r.values;
      for (const e of r.errors) this.log.error(`restart_with_env: ${e}`);
      if (r.errors.length > 0) applied.note = [applied.note, ...r.errors].filter(Boolean).join("; ");
      if (r.notes.length > 0) this.log.log("ACTION", `env overrides: ${r.notes.join(", ")}`);
    }

    if (restartsExhausted(this.policy, s.restarts)) {
      const reason = `Max restarts reached (${restartsLabel(s.restarts, this.policy.max_restarts)})`;
      applied.note = [applied.note, reason].filter(Boolean).join("; ");
      await this.record(incident, applied);
      this.notifyIncident(primary, outcome, incident);
      await this.finish(this.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    await this.record(incident, applied);
    this.notifyIncident(primary, outcome, incident);
    if (incident) {
      this.addVerification(incident, outcome, effective.kind, generation);
    }
    this.deps.journal.write("recovery_applied", {
      incident_id: incident?.id ?? null,
      action: effective.kind,
    });
    await this.restart("healer", {
      reason: primary.message,
      rule: outcome.ruleName ?? null,
      incident: incident?.id ?? null,
    });
  }

  private async runCustomCommand(action: Action): Promise<RunCommandResult> {
    const env = childEnvironment(this.env, this.cfg.process.env, this.s.env_overlay);
    this.log.log("ACTION", `running custom command ${JSON.stringify(action.command)}`);
    const res = await this.deps.runCommand(action.command, {
      cwd: this.cfg.process.cwd,
      env,
      timeoutMs: (action.timeout_seconds ?? 300) * 1000,
    });
    this.log.log(
      "ACTION",
      `custom command ended: ${res.timedOut ? "timed out" : `exit ${res.exitCode ?? res.signal ?? "?"}`}${res.error ? ` (${res.error})` : ""}`,
    );
    return res;
  }

  /** No healer answered and the child is gone: lifecycle and restart policy decide. */
  private async fallback(incident: IncidentRef | null): Promise<void> {
    const s = this.s;
    if (s.desired === "paused") {
      // Paused while this failure was being decided: nothing starts until resume.
      this.setPhase("paused");
      return;
    }
    const code = s.last_exit_code;
    if (this.cfg.process.lifecycle === "one_shot") {
      await this.finish(code ?? 1, `Child exited with code ${code ?? "unknown"} (one_shot)`, "stopped");
      return;
    }
    if (code !== null && this.policy.no_retry_exit_codes.includes(code)) {
      await this.finish(
        code,
        `Exit code ${code} is listed in no_retry_exit_codes; not restarting`,
        "gave_up",
      );
      return;
    }
    if (restartsExhausted(this.policy, s.restarts)) {
      const reason = `Max restarts reached (${restartsLabel(s.restarts, this.policy.max_restarts)})`;
      this.notify({
        kind: "exit",
        title: "max restarts reached",
        body: reason,
        incident_id: incident?.id ?? null,
      });
      await this.finish(this.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    await this.restart("fallback", {
      reason: `restart policy after exit ${code ?? "unknown"}`,
      rule: null,
      incident: incident?.id ?? null,
    });
  }

  private exitCodeForGiveUp(): number {
    const c = this.s.last_exit_code;
    return c !== null && c !== 0 ? c : 1;
  }

  /** Stop the current child (if alive) and schedule the next launch per the restart policy. */
  private async restart(
    cause: RestartCause,
    info: { reason: string; rule: string | null; incident: string | null },
    delayOverride?: number,
  ): Promise<void> {
    const s = this.s;
    if (s.desired === "paused") {
      // Paused while this restart was being decided (e.g. during a slow healer): stay stopped.
      this.condemned.add(this.gen);
      await this.stopChild("pause");
      this.setPhase("paused");
      return;
    }
    s.consecutive_failures += 1;
    const delay = delayOverride ?? restartDelaySeconds(this.policy, s.consecutive_failures, cause);
    s.restarts += 1;
    s.restarts_total += 1;
    s.last_restart_at = new Date().toISOString();
    pushCapped(s.restart_history, {
      time: s.last_restart_at,
      reason: this.red(info.reason.slice(0, 500)),
      rule: info.rule,
      new_pid: null,
      incident_id: info.incident,
      delay_seconds: delay,
    });
    // The decision for this child is made: its exit (if still to come, or already queued) and any
    // late detection of it must not be handled a second time.
    this.condemned.add(this.gen);
    await this.stopChild("restart");
    this.schedule(delay, `restart ${restartsLabel(s.restarts, this.policy.max_restarts)}`);
    this.deps.journal.write("restart_scheduled", {
      cause,
      delay_seconds: delay,
      restarts: s.restarts,
      incident_id: info.incident,
    });
    this.log.log(
      "RECOVERY",
      `restart ${restartsLabel(s.restarts, this.policy.max_restarts)} ${delay > 0 ? `in ${delay}s` : "now"} (${cause === "healer" ? (info.rule ?? "healer") : "restart policy"})`,
    );
  }

  private schedule(delaySeconds: number, why: string): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.s.next_restart_at = new Date(Date.now() + delaySeconds * 1000).toISOString();
    this.setPhase("backoff");
    this.deps.state.changed();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.serial(() => this.launch(why));
    }, delaySeconds * 1000);
  }

  /** Stop the running child on purpose; its exit is expected and handled as such. */
  private async stopChild(reason: "restart" | "pause" | "abort"): Promise<void> {
    const g = this.gen;
    this.condemned.add(g);
    if (!this.childAlive) return;
    const exited = new Promise<void>((resolve) => {
      const list = this.exitWaiters.get(g) ?? [];
      list.push(resolve);
      this.exitWaiters.set(g, list);
    });
    try {
      await this.sup.stop(reason, this.cfg.process.stop_grace_seconds);
    } catch (err) {
      this.log.error(`Cannot stop the child: ${errMsg(err)}`);
    }
    await Promise.race([exited, sleep(2000)]);
  }

  /** Launch a child (initial start, scheduled restart, resume). */
  private async launch(why: string): Promise<void> {
    if (this.finishing) return;
    const s = this.s;
    s.next_restart_at = null;
    if (s.desired === "paused") {
      this.setPhase("paused");
      return;
    }
    const now = Date.now();
    s.restart_window = pruneWindow(s.restart_window, this.policy, now);
    if (this.launchedThisRun && rateLimited(this.policy, s.restart_window)) {
      const reason = `Restart rate limit reached: ${s.restart_window.length} launches within ${this.policy.restart_window_seconds} seconds`;
      this.deps.journal.write("restart_rate_limited", { launches: s.restart_window.length });
      await this.finish(this.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    const p = this.cfg.process;
    // attach watches a process something else started: it has no command.
    if (p.command.length === 0 && this.sup.kind !== "attach") {
      await this.finish(2, "process.command is empty: nothing to run", "gave_up");
      return;
    }
    const generation = s.generation + 1;
    s.generation = generation;
    this.gen = generation;
    this.setPhase("starting");
    this.deps.journal.write("child_start_requested", { generation, why });
    this.deps.detectors.onChildStart(generation, now);
    this.unresolved = null;
    try {
      const record = await this.sup.start({
        generation,
        argv: p.command,
        cwd: p.cwd,
        env: childEnvironment(this.env, p.env, s.env_overlay),
        envOverrides: { ...p.env, ...s.env_overlay },
      });
      this.childAlive = true;
      this.deadSinceMs = null;
      this.launchedThisRun = true;
      s.restart_window.push(new Date().toISOString());
      s.child = record;
      s.pid = record.pid;
      s.started_at = new Date(record.startedAt).toISOString();
      s.child_started_at = s.started_at;
      s.child_running = true;
      s.child_dead_since = null;
      const last = s.restart_history[s.restart_history.length - 1];
      if (why !== "initial start" && last && last.new_pid === null) last.new_pid = record.pid;
      this.setPhase("running");
      this.deps.journal.write("child_started", { generation, pid: record.pid, why });
      const overlay = Object.keys(s.env_overlay).length
        ? ` with ${Object.entries(s.env_overlay)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : "";
      this.log.info(`child started (pid ${record.pid ?? "?"}, generation ${generation}, ${why})${overlay}`);
    } catch (err) {
      const msg = errMsg(err);
      this.log.error(`Cannot start the child: ${msg}`);
      this.deps.journal.write("child_start_failed", { generation, error: msg });
      if (!this.launchedThisRun) {
        await this.finish(1, `Cannot start the child: ${msg}`, "gave_up");
        return;
      }
      s.last_exit_code = 127;
      this.childAlive = false;
      this.deadSinceMs = Date.now();
      await this.fallback(null);
    }
  }

  /** Exit of the current child (not one we stopped). */
  private async handleExit(exit: ChildExit): Promise<void> {
    this.exitPending.delete(exit.generation);
    if (this.condemned.has(exit.generation) || this.finishing) return;
    const s = this.s;
    if (exit.exitClass === "preempted" || exit.exitClass === "node_fail" || exit.exitClass === "timeout") {
      await this.requeue(exit);
      return;
    }
    if (exit.exitClass === "success") {
      s.identical = { signature: null, count: 0 };
      for (const pv of s.pending_verifications.filter((p) => p.generation < exit.generation)) {
        this.keep(pv, "the child completed successfully");
      }
      const ep = this.episode;
      if (ep && ep.generation === exit.generation) {
        if (ep.timer) clearTimeout(ep.timer);
        this.episode = null;
        await this.recordCompletedEpisode(ep);
      }
      const lc = this.cfg.process.lifecycle;
      if (lc === "restart_always") {
        const delay = this.policy.cooldown_seconds;
        this.log.info(
          `child completed; restart_always relaunches in ${delay}s (not charged to max_restarts)`,
        );
        this.schedule(delay, "restart_always relaunch");
        return;
      }
      await this.finish(
        0,
        lc === "one_shot" ? "Child exited with code 0 (one_shot)" : "Child completed successfully",
        "completed",
      );
      return;
    }
    const ep = this.episode;
    if (ep && ep.generation === exit.generation) {
      if (ep.timer) clearTimeout(ep.timer);
      this.episode = null;
      await this.settle(ep);
      return;
    }
    // No detection passed (e.g. the exit detector is on cooldown): the policy decides.
    await this.fallback(null);
  }

  /**
   * A scheduler ended the job for reasons of its own: preemption and node failure are relaunched
   * at once without counting against max_restarts; a time limit has its own small budget
   * (`process.extra.timeout_requeues`). Neither is a bug, so no healer is asked.
   */
  private async requeue(exit: ChildExit): Promise<void> {
    const s = this.s;
    const ep = this.episode;
    if (ep && ep.generation === exit.generation) {
      if (ep.timer) clearTimeout(ep.timer);
      this.episode = null;
    }
    if (exit.exitClass === "timeout") {
      const budget = this.cfg.process.extra.timeout_requeues;
      s.timeout_requeues += 1;
      if (s.timeout_requeues > budget) {
        await this.finish(
          exit.code !== null && exit.code !== 0 ? exit.code : 1,
          `Time limit reached ${s.timeout_requeues} times (timeout_requeues ${budget})`,
          "gave_up",
        );
        return;
      }
    }
    s.requeues_total += 1;
    const why = `${exit.exitClass} requeue${exit.exitClass === "timeout" ? ` ${s.timeout_requeues}/${this.cfg.process.extra.timeout_requeues}` : ""}`;
    this.deps.journal.write("requeued", { exit_class: exit.exitClass, detail: exit.detail ?? null });
    this.log.log(
      "RECOVERY",
      `${why}: relaunching (not charged to max_restarts)${exit.detail ? ` — ${exit.detail}` : ""}`,
    );
    this.schedule(0, why);
  }

  private async recordCompletedEpisode(ep: Episode): Promise<void> {
    // A traceback logged by a job that then finished with code 0: keep the evidence, apply nothing.
    const primary = primaryDetection(ep.detections);
    if (ep.incident) return;
    try {
      const incident = await this.deps.store.create({
        detection: primary,
        related: ep.detections,
        logExcerpt: this.excerpt.toArray(),
        state: JSON.parse(JSON.stringify(this.s)),
        process: {
          kind: this.cfg.process.kind,
          argv: this.cfg.process.command,
          cwd: this.cfg.process.cwd,
          pid: this.s.pid,
        },
        restarts: this.s.restarts,
        maxRestarts: this.policy.max_restarts,
        configSnapshots: this.cfg.config_snapshots,
      });
      await this.deps.store.recordOutcome(incident.id, {
        outcome: null,
        note: "The child completed successfully afterwards; nothing was applied",
      });
    } catch (err) {
      this.log.error(`Cannot write the incident folder: ${errMsg(err)}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // verification

  /** Start the verification window of an applied outcome, and its ledger row. */
  private addVerification(
    incident: IncidentRef,
    outcome: HealerOutcome,
    action: string,
    generation: number,
  ): void {
    const s = this.s;
    const fix = outcome.fix as { branch?: string | null } | undefined;
    const ledgerSource = outcome.source === "rule" ? (outcome.ruleName ?? "rule") : outcome.source;
    const pv: PendingVerification = {
      incident_id: incident.id,
      detector: outcome.detection.detector,
      fingerprint: this.deps.fingerprint(outcome.detection),
      source: outcome.source,
      rule: outcome.ruleName ?? null,
      action,
      deadline: new Date(Date.now() + this.cfg.healing.verify_window_seconds * 1000).toISOString(),
      generation,
      branch: fix?.branch ?? null,
      ledger_source: ledgerSource,
      applied_at: new Date().toISOString(),
      fix: withoutDiff(outcome.fix),
    };
    // One open verification per detector: an older one is superseded (its attempt is discarded).
    for (const old of s.pending_verifications.filter((p) => p.detector === pv.detector)) {
      this.ledgerUpdate(old, "discarded");
    }
    s.pending_verifications = s.pending_verifications.filter((p) => p.detector !== pv.detector);
    s.pending_verifications.push(pv);
    try {
      this.deps.ledger.append({
        incident_id: incident.id,
        detector: pv.detector,
        source: ledgerSource,
        branch: pv.branch ?? null,
        description: outcome.detection.message,
      });
    } catch (err) {
      this.log.error(`Cannot write the attempts ledger: ${errMsg(err)}`);
    }
    this.deps.state.changed();
  }

  private ledgerUpdate(
    pv: PendingVerification,
    status: "kept" | "regressed" | "crashed" | "discarded",
  ): void {
    try {
      const seconds = (Date.now() - Date.parse(pv.applied_at)) / 1000;
      this.deps.ledger.update(pv.incident_id, pv.ledger_source, status, Math.round(seconds * 10) / 10);
    } catch (err) {
      this.log.error(`Cannot update the attempts ledger: ${errMsg(err)}`);
    }
  }

  private checkRegression(d: Detection): void {
    const s = this.s;
    if (s.pending_verifications.length === 0) return;
    const byFingerprint = this.cfg.healing.verify_match === "fingerprint";
    const fp = byFingerprint ? this.deps.fingerprint(d) : "";
    const hit = s.pending_verifications.find(
      (p) =>
        p.detector === d.detector && d.generation > p.generation && (!byFingerprint || p.fingerprint === fp),
    );
    if (!hit) return;
    s.pending_verifications = s.pending_verifications.filter((p) => p !== hit);
    this.deps.journal.write("recovery_regressed", {
      incident_id: hit.incident_id,
      detector: hit.detector,
      source: hit.source,
    });
    this.log.log(
      "RECOVERY",
      `fix for '${hit.detector}' (incident ${hit.incident_id}) regressed: the same failure came back`,
    );
    this.ledgerUpdate(hit, "regressed");
    if (hit.source === "rule" && this.cfg.healing.escalate_on_rule_regression && this.deps.agent) {
      if (!s.force_agent.includes(hit.detector)) s.force_agent.push(hit.detector);
    }
    this.deps.state.changed();
    void this.serial(() => this.onRegressed(hit));
  }

  /** `healing.regression_action` for a fix whose failure came back. */
  private async onRegressed(pv: PendingVerification): Promise<void> {
    const action = this.cfg.healing.regression_action;
    if (action === "revert" && pv.fix) {
      try {
        const res = await this.deps.fixes.revert(pv.fix);
        this.log.log("RECOVERY", `reverted the agent's edits of incident ${pv.incident_id}: ${res}`);
        this.deps.journal.write("fix_reverted", { incident_id: pv.incident_id, result: res });
      } catch (err) {
        this.log.error(`Cannot revert the agent's edits of incident ${pv.incident_id}: ${errMsg(err)}`);
        this.notify({
          kind: "anomaly",
          title: `[${pv.detector}] could not revert the agent's fix`,
          body: errMsg(err),
          incident_id: pv.incident_id,
        });
      }
    } else if (action === "escalate") {
      const s = this.s;
      if (!s.paused_detectors.includes(pv.detector)) s.paused_detectors.push(pv.detector);
      this.deps.state.changed();
      this.notify({
        kind: "anomaly",
        title: `[${pv.detector}] regression — escalating`,
        body: `the fix of incident ${pv.incident_id} did not hold; healing for ${pv.detector} is paused until \`autosentry approve\``,
        incident_id: pv.incident_id,
      });
    }
  }

  private checkVerifications(now: number): void {
    const s = this.s;
    if (s.pending_verifications.length === 0) return;
    for (const pv of s.pending_verifications) {
      if (Date.parse(pv.deadline) <= now && this.gen > pv.generation)
        this.keep(pv, `no recurrence in ${this.cfg.healing.verify_window_seconds}s`);
    }
  }

  private keep(pv: PendingVerification, why: string): void {
    const s = this.s;
    s.pending_verifications = s.pending_verifications.filter((p) => p !== pv);
    s.restarts = 0;
    s.escalated = false;
    this.ledgerUpdate(pv, "kept");
    if (pv.fix) {
      const fix = pv.fix;
      void this.serial(async () => {
        try {
          const res = await this.deps.fixes.keep(fix, this.cfg.healing.git.auto_merge);
          this.log.log("RECOVERY", `kept the agent's fix of incident ${pv.incident_id}: ${res}`);
          this.deps.journal.write("fix_kept", { incident_id: pv.incident_id, result: res });
        } catch (err) {
          this.log.error(`Cannot keep the agent's fix of incident ${pv.incident_id}: ${errMsg(err)}`);
        }
        if (this.cfg.healing.github.open_pr) {
          try {
            const url = await this.deps.fixes.openPullRequest(fix, pv.incident_id);
            this.log.log("RECOVERY", `pull request for incident ${pv.incident_id}: ${url}`);
            this.deps.journal.write("pull_request_opened", { incident_id: pv.incident_id, url });
            this.notify({
              kind: "recovery",
              title: `[${pv.detector}] fix kept: pull request opened`,
              body: url,
              incident_id: pv.incident_id,
            });
          } catch (err) {
            this.log.error(`Cannot open a pull request for incident ${pv.incident_id}: ${errMsg(err)}`);
            this.deps.journal.write("pull_request_failed", {
              incident_id: pv.incident_id,
              error: errMsg(err),
            });
          }
        }
      });
    }
    this.deps.journal.write("recovery_verified", {
      incident_id: pv.incident_id,
      detector: pv.detector,
      source: pv.source,
      why,
    });
    this.log.log("RECOVERY", `fix for '${pv.detector}' (incident ${pv.incident_id}) verified — ${why}`);
    this.deps.state.changed();
  }

  // ------------------------------------------------------------------------------------------
  // session dispatch

  private pollSessionQueue(): void {
    const q = this.deps.sessionQueue;
    if (!q) return;
    let batch: SessionBatch;
    try {
      batch = q.drain();
    } catch (err) {
      this.log.error(`Cannot read the session action queue: ${errMsg(err)}`);
      return;
    }
    if (batch.actions.length === 0 && batch.invalid.length === 0) return;
    for (const bad of batch.invalid) {
      this.log.warn(
        `session action queue line ${bad.line}${bad.id ? ` (${bad.id})` : ""} ignored: ${bad.reason}`,
      );
      this.deps.journal.write("session_action_failed", { line: bad.line, id: bad.id, reason: bad.reason });
    }
    const actions = batch.actions;
    void this.serial(async () => {
      for (const a of actions) await this.applySessionAction(a);
      try {
        batch.commit();
      } catch (err) {
        this.log.error(`Cannot advance the session action cursor: ${errMsg(err)}`);
      }
    });
  }

  /**
   * An action decided by the Claude Code session. It is applied at once: a restart that the restart
   * policy had already scheduled (and charged) for the same failure is replaced, not added to.
   */
  private async applySessionAction(a: SessionAction): Promise<void> {
    if (this.finishing) return;
    const s = this.s;
    const entry = (await this.deps.store.list()).find((e) => e.id === a.incident_id);
    const detection: Detection = {
      detector: entry?.detector ?? "session",
      detectorKind: "pattern",
      kind: entry?.kind === "anomaly" ? "anomaly" : "error",
      message: entry?.message ?? `session action for ${a.incident_id}`,
      exceptionType: entry?.exception_type ?? undefined,
      context: [],
      meta: {},
      at: Date.now(),
      generation: entry?.generation ?? this.gen,
    };
    const outcome: HealerOutcome = {
      action: a.action,
      source: a.source === "rule" ? "rule" : a.source === "claude" ? "claude" : "manual",
      ruleName: a.rule ?? undefined,
      detection,
      rationale: `queued by the Claude Code session (${a.id})`,
    };
    const incident: IncidentRef | null = entry ? { id: entry.id, dir: "" } : null;
    this.deps.journal.write("session_action_applied", {
      id: a.id,
      incident_id: a.incident_id,
      action: a.action.kind,
    });
    this.log.log("ACTION", `session: ${a.action.kind} for incident ${a.incident_id}`);
    const kind = a.action.kind;
    if (kind === "abort") {
      await this.record(incident, { outcome });
      await this.finish(130, `Session abort for incident ${a.incident_id}`, "aborted");
      return;
    }
    if (kind === "pause") {
      await this.record(incident, { outcome });
      await this.pause("session", `incident ${a.incident_id}`);
      return;
    }
    const applied: AppliedOutcome = { outcome };
    if (kind === "custom_command") {
      const res = await this.runCustomCommand(a.action);
      applied.commandResult = {
        argv: a.action.command,
        exitCode: res.exitCode,
        timedOut: res.timedOut,
        output: res.output,
      };
    }
    if (kind === "restart_with_env") {
      const r = resolveOverlay(a.action.set, {
        overlay: s.env_overlay,
        processEnv: this.cfg.process.env,
        monitorEnv: this.env,
      });
      Object.assign(s.env_overlay, r.values);
      applied.resolvedEnv = r.values;
      if (r.errors.length) applied.note = r.errors.join("; ");
    }
    await this.record(incident, applied);
    if (kind === "custom_command" && this.childAlive) return;
    if (incident) this.addVerification(incident, outcome, kind, this.gen);
    if (this.restartTimer) {
      // The restart policy already scheduled (and charged) a restart for this failure: launch now.
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      await this.launch(`session action ${a.id}`);
      return;
    }
    if (restartsExhausted(this.policy, s.restarts)) {
      await this.finish(
        this.exitCodeForGiveUp(),
        `Max restarts reached (${restartsLabel(s.restarts, this.policy.max_restarts)})`,
        "gave_up",
      );
      return;
    }
    await this.restart("healer", { reason: detection.message, rule: a.rule, incident: a.incident_id }, 0);
  }

  // ------------------------------------------------------------------------------------------
  // operator commands

  private pollControl(): void {
    const s = this.s;
    let res: { commands: ControlCommand[]; offset: number };
    try {
      res = readControl(this.deps.controlFile, s.control_offset);
    } catch (err) {
      this.log.error(`Cannot read ${this.deps.controlFile}: ${errMsg(err)}`);
      return;
    }
    if (res.offset === s.control_offset) return;
    s.control_offset = res.offset;
    this.deps.state.changed();
    for (const c of res.commands) {
      // abort and pause act at once, even while a decision (an agent at work) holds the queue;
      // a decision that finishes later sees the pause and launches nothing.
      if (c.command === "abort" || c.command === "pause") void this.applyControl(c);
      else void this.serial(() => this.applyControl(c));
    }
  }

  private async applyControl(c: ControlCommand): Promise<void> {
    this.deps.journal.write("operator_command", { command: c.command, user: c.user, id: c.id });
    this.log.info(`operator ${c.user}: ${c.command}${c.reason ? ` (${c.reason})` : ""}`);
    if (c.command === "pause") await this.pause(c.user, c.reason ?? "operator pause");
    else if (c.command === "resume") await this.resume(c.user);
    else if (c.command === "approve") this.approve(c.user, c.detector ?? null);
    else await this.finish(130, `Operator abort from '${c.user}'`, "aborted");
  }

  /**
   * Resume healing that was paused for a detector (hourly budget used up, or a regression with
   * `regression_action: escalate`). `detector` null = every detector.
   */
  private approve(by: string, detector: string | null): void {
    const s = this.s;
    const which = detector
      ? [detector]
      : [...new Set([...s.paused_detectors, ...Object.keys(s.attempts_by_detector)])];
    s.paused_detectors = s.paused_detectors.filter((d) => !which.includes(d));
    for (const d of which) delete s.attempts_by_detector[d];
    const approvals = Array.isArray(s.user.approvals) ? (s.user.approvals as unknown[]) : [];
    s.user.approvals = approvals;
    pushCapped(approvals, { time: new Date().toISOString(), by, detector });
    this.deps.journal.write("approved", { by, detector });
    this.log.info(`healing approved by ${by} for ${detector ?? "every detector"}`);
    this.deps.state.changed();
  }

  /** Durable pause: the child stays stopped (across monitor restarts) until resume. */
  private async pause(by: string, why: string): Promise<void> {
    const s = this.s;
    s.desired = "paused";
    s.paused_at = new Date().toISOString();
    s.paused_by = by;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    s.next_restart_at = null;
    await this.stopChild("pause");
    this.setPhase("paused");
    this.deps.journal.write("paused", { by, why });
    this.log.info(`paused by ${by}: the child stays stopped until \`autosentry resume\``);
    this.notify({
      kind: "anomaly",
      title: "supervised work paused",
      body: `${why} (by ${by})`,
      incident_id: null,
    });
    await this.deps.state.flush(true);
  }

  private async resume(by: string): Promise<void> {
    const s = this.s;
    if (s.desired !== "paused" && s.phase !== "paused") {
      this.log.info("resume: not paused; nothing to do");
      return;
    }
    s.desired = "running";
    s.paused_at = null;
    s.paused_by = null;
    this.deps.journal.write("resumed", { by });
    this.notify({ kind: "recovery", title: "supervised work resumed", body: `by ${by}`, incident_id: null });
    if (!this.childAlive) await this.launch(`resumed by ${by}`);
  }

  // ------------------------------------------------------------------------------------------
  // helpers

  private collectAfter(text: string, generation: number): void {
    for (const c of this.after) {
      if (c.generation === generation && c.remaining > 0) {
        c.lines.push(text);
        c.remaining--;
      }
    }
  }

  private flushAfterCollectorsFor(generation: number): void {
    for (const c of this.after) if (c.generation === generation) c.until = 0;
    this.flushAfterCollectors(false);
  }

  private flushAfterCollectors(all: boolean): void {
    if (this.after.length === 0) return;
    const now = Date.now();
    for (let i = this.after.length - 1; i >= 0; i--) {
      const c = this.after[i]!;
      if (all || c.remaining <= 0 || now >= c.until) {
        this.after.splice(i, 1);
        if (c.lines.length > 0) {
          this.deps.store.appendAfterLines(c.incidentId, c.lines).catch((err: unknown) => {
            this.log.error(`Cannot append to the incident's log excerpt: ${errMsg(err)}`);
          });
        }
      }
    }
  }

  private async record(incident: IncidentRef | null, applied: AppliedOutcome): Promise<void> {
    if (!incident) return;
    try {
      await this.deps.store.recordOutcome(incident.id, applied);
    } catch (err) {
      this.log.error(`Cannot record the outcome of incident ${incident.id}: ${errMsg(err)}`);
    }
  }

  private notifyIncident(
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
    });
  }

  private notify(n: Notification): void {
    try {
      this.deps.notifier.notify(n);
    } catch (err) {
      this.log.error(`notifier failed: ${errMsg(err)}`);
    }
  }
}

/** A fix record for state.json: the diff itself is in the incident's fix/diff.patch. */
function withoutDiff(fix: unknown): unknown {
  if (fix === null || typeof fix !== "object") return fix;
  const { diff: _diff, ...rest } = fix as Record<string, unknown>;
  return rest;
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
