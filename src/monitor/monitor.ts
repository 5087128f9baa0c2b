/**
 * @module
 * The monitor: one supervised workload, its detectors, healers, incidents and restart policy.
 * This file is its event loop and lifecycle; the decisions live in the parts listed in
 * context.ts (episodes, healing, actions, launching, exits, verification, operator input,
 * session actions), which share one {@link MonitorContext}.
 *
 * It is event-driven, never a busy loop. Lines and exits arrive from the supervisor; a one-second
 * tick drives time-based checks (stalls, verification windows, the stable-child reset, the control
 * inbox, the heartbeat); timers drive settling and scheduled restarts. Decisions (settling a
 * failure, handling an exit, applying an action, operator commands) run one at a time through the
 * decision queue ({@link MonitorContext.serial}), while lines keep flowing: healing never blocks
 * ingestion.
 *
 * The decision table (state × event) is documented in docs/architecture.md; keep them in step.
 */
import * as os from "node:os";
import { resolveDetectorName } from "../config/detector-names.ts";
import type { ChildExit } from "../core/types.ts";
import type { ChildRecord, SupervisorSink } from "../supervisors/types.ts";
import { procStartTime } from "../util/proc.ts";
import { Actions } from "./actions.ts";
import { errMsg, MonitorContext, type MonitorDeps } from "./context.ts";
import { Episodes } from "./episodes.ts";
import { Exits } from "./exits.ts";
import { Healing } from "./healing.ts";
import { LineIngest } from "./ingest.ts";
import { Launching } from "./launching.ts";
import { OperatorInput } from "./operator.ts";
import { isStable } from "./policy.ts";
import { SessionActions } from "./session-actions.ts";
import { Signals } from "./signals.ts";
import type { Phase } from "./state.ts";
import { Verification } from "./verification.ts";

export type { DetectorFanout, MonitorDeps } from "./context.ts";

const TICK_MS = 1000;

export class Monitor {
  private readonly m: MonitorContext;
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  private resolveDone!: (code: number) => void;
  private readonly done: Promise<number>;
  private signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(deps: MonitorDeps) {
    const m = new MonitorContext(deps);
    this.m = m;
    this.done = new Promise<number>((resolve) => {
      this.resolveDone = resolve;
    });
    // lines in (src/monitor/ingest.ts): as strings from every supervisor, as bytes from the local one
    const ingest = new LineIngest({
      echo: deps.echo,
      excerpt: m.excerpt,
      after: m.after,
      get signals() {
        return m.parts.signals;
      },
      detectors: deps.detectors,
      current: (generation) => generation === m.gen && !m.condemned.has(generation) && !m.finishing,
      onDetection: (d) => m.parts.episodes.onDetection(d),
      onError: (err, generation) =>
        m.log.error(`Supervisor sink failed on a line of generation ${generation}: ${errMsg(err)}`),
    });
    const sink: SupervisorSink = {
      line: (text, stream, generation) => {
        ingest.line(text, stream, generation);
      },
      lineBytes: (bytes, from, to, tags, maxLine, generation) =>
        ingest.lineBytes(bytes, from, to, tags, maxLine, generation),
      exit: (exit) => this.onExit(exit),
    };
    m.sup = deps.createSupervisor(sink);
    m.finish = (code, reason, phase) => this.finish(code, reason, phase);
    m.parts = {
      episodes: new Episodes(m),
      healing: new Healing(m),
      actions: new Actions(m),
      launching: new Launching(m),
      exits: new Exits(m),
      verification: new Verification(m),
      operator: new OperatorInput(m),
      session: new SessionActions(m),
      signals: new Signals(
        m,
        deps.signals ?? null,
        // a pipeline stage has max_stage_seconds instead
        m.s.stage === null ? m.cfg.process.max_run_seconds : 0,
        new Map(
          m.cfg.detectors
            // a sentinel `.status` SUCCESS gives the child its heartbeat's max age to exit
            .map(
              (d, i) =>
                [
                  resolveDetectorName(d, i),
                  d.completion?.grace_seconds ?? d.heartbeat?.max_age_seconds,
                ] as const,
            )
            .filter((e): e is readonly [string, number] => e[1] !== undefined),
        ),
      ),
    };
  }

  /** Start supervising; resolves with the process exit code when the monitor stops. */
  async run(): Promise<number> {
    const m = this.m;
    const s = m.s;
    const continuing = m.deps.continuing;
    s.monitor = {
      pid: process.pid,
      started_at: new Date().toISOString(),
      proc_start: procStartTime(process.pid),
      version: m.deps.version,
      host: os.hostname(),
    };
    s.stop_reason = null;
    s.exit_code = null;
    s.max_restarts = m.policy.max_restarts;
    m.gen = s.generation;
    m.deps.journal.write("monitor_started", {
      continuing,
      config: m.deps.configPath,
      command: m.cfg.process.command,
      version: m.deps.version,
    });
    m.log.info(
      `autosentry ${m.deps.version} starting — supervisor=${m.cfg.process.kind} cmd=${JSON.stringify(m.cfg.process.command)}`,
    );
    m.notify({
      kind: "start",
      title: "autosentry monitor starting",
      body: `cmd=${m.cfg.process.command.join(" ")}`,
      incident_id: null,
    });
    this.installSignalHandlers();
    this.tickTimer = setInterval(() => this.onTick(), TICK_MS);
    m.parts.signals.start();

    await m.serial(async () => {
      // A monitor killed between launching a generation and recording it left that child running
      // unrecorded: stop it before adopting or launching, or the job would run twice.
      if (m.sup.reapOrphans) {
        try {
          await m.sup.reapOrphans(continuing ? s.child : null);
        } catch (err) {
          m.log.error(`Cannot look for orphaned children: ${errMsg(err)}`);
        }
      }
      // Exits the capture process kept for generations state.json no longer names were recorded.
      m.sup.dropRecordedExits?.(continuing && s.child ? s.child.generation : null);
      if (continuing && s.child) {
        const record = s.child;
        let adopted = false;
        try {
          adopted = await m.sup.adopt(record);
        } catch (err) {
          m.log.error(`Cannot re-adopt the child from the previous monitor: ${errMsg(err)}`);
        }
        if (adopted) {
          m.gen = record.generation;
          m.childAlive = true;
          // the samplers follow the adopted child too (its tree's RSS and fds, the probe)
          m.parts.signals.childStarted(record);
          m.setPhase("running");
          s.child_running = true;
          m.deps.journal.write("child_adopted", { pid: record.pid, generation: record.generation });
          m.log.info(`re-adopted the running child (pid ${record.pid}, generation ${record.generation})`);
          m.deps.state.changed();
          return;
        }
        m.log.info(`the previous monitor's child (pid ${record.pid}) is no longer running`);
        if (!adopted && (await this.recoverMissedExit(record))) return;
        s.child = null;
        s.child_running = false;
      }
      if (s.desired === "paused") {
        m.setPhase("paused");
        m.log.info(
          `the job is paused (since ${s.paused_at ?? "?"} by ${s.paused_by ?? "?"}); run \`autosentry resume\` to start it`,
        );
        m.deps.state.changed();
        return;
      }
      if (continuing && s.next_restart_at) {
        const delay = Math.max(0, Date.parse(s.next_restart_at) - Date.now());
        m.log.info(`continuing the scheduled restart in ${Math.ceil(delay / 1000)}s`);
        m.setPhase("backoff");
        m.restartTimer = setTimeout(
          () => void m.serial(() => m.parts.launching.launch("scheduled restart")),
          delay,
        );
        return;
      }
      await m.parts.launching.launch("initial start");
    });
    return this.done;
  }

  /**
   * The child ended while no monitor ran (issue 16 finding 4): when the backend still knows how (the
   * local exit file), its unread output goes through the detectors and its exit is handled as the
   * failure (or completion) it was: incident, counted, restart policy. True when that happened.
   */
  private async recoverMissedExit(record: ChildRecord): Promise<boolean> {
    const m = this.m;
    if (!m.sup.recoverExit) return false;
    m.gen = record.generation;
    m.childAlive = true;
    m.deps.detectors.onChildStart(record.generation, record.startedAt);
    // The previous monitor may have written this exit's incident before it died: use that one.
    try {
      const prior = (await m.deps.store.findByGeneration?.(record.generation, record.startedAt)) ?? null;
      if (prior) {
        m.recorded = { generation: record.generation, incident: prior };
        m.log.info(
          `incident ${prior.id} of generation ${record.generation} was written before the monitor stopped`,
        );
      }
    } catch (err) {
      m.log.warn(`Cannot look for an incident of generation ${record.generation}: ${errMsg(err)}`);
    }
    let recovered = false;
    try {
      // Without an incident of this generation, its detections died with the previous monitor:
      // read its output again from the launch, not from where that monitor had read to.
      recovered = await m.sup.recoverExit(record, { fromLaunch: m.recorded === null });
    } catch (err) {
      m.log.error(`Cannot recover how the previous monitor's child ended: ${errMsg(err)}`);
    }
    if (!recovered) {
      m.childAlive = false;
      m.recorded = null;
      return false;
    }
    m.recovering = record.generation;
    m.deps.journal.write("child_exit_recovered", { pid: record.pid, generation: record.generation });
    m.log.info(
      `the previous monitor's child (generation ${record.generation}) ended while no monitor was running; handling its exit now`,
    );
    return true;
  }

  /**
   * Stop from outside (a pipeline controller's deadline or cancellation): stops the child and
   * resolves {@link run} with `code`.
   */
  requestStop(code: number, reason: string): Promise<void> {
    return this.m.serial(() => this.finish(code, reason, "stopped"));
  }

  /** The agent cannot work (auth, quota, missing CLI): rules-only from now on, said once. */
  disableAgent(reason: string, kind: string): void {
    this.m.parts.healing.disableAgent(reason, kind);
  }

  private installSignalHandlers(): void {
    const m = this.m;
    const onTerm = (sig: NodeJS.Signals, n: number) => () => {
      if (m.finishing) {
        if (sig === "SIGINT") m.log.warn("second interrupt: stopping the child without waiting");
        void m.sup.stop("shutdown", 0);
        return;
      }
      m.log.info(`${sig} received: stopping`);
      void this.finish(128 + n, `Termination signal received (${sig})`, "stopped");
    };
    const onHup = () => {
      m.log.info(
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
    const m = this.m;
    if (m.finishing) return;
    m.finishing = true;
    m.healAbort?.abort();
    const s = m.s;
    if (this.tickTimer) clearInterval(this.tickTimer);
    m.parts.signals.stop();
    if (m.restartTimer) clearTimeout(m.restartTimer);
    if (m.episode?.timer) clearTimeout(m.episode.timer);
    s.stop_reason = m.red(reason);
    s.exit_code = code;
    s.next_restart_at = null;
    m.setPhase(phase === "detached" ? "detached" : "stopping");
    const logLine = `stopping: ${reason} (exit ${code})`;
    if (phase === "gave_up") m.log.log("ERROR", logLine);
    else m.log.info(logLine);
    if (phase === "detached") {
      s.child = m.sup.record() ?? s.child;
      await m.sup.detach();
    } else if (m.sup.running()) {
      await m.parts.signals.beforeStop();
      if (m.childAlive) m.condemned.add(m.gen);
      try {
        await m.sup.stop(phase === "aborted" ? "abort" : "shutdown", m.cfg.process.stop_grace_seconds);
      } catch (err) {
        m.log.error(`Cannot stop the child cleanly: ${errMsg(err)}`);
      }
      s.child = null;
    } else {
      s.child = null;
    }
    // The local backend's capture process stays across restarts; a stopping monitor lets it go.
    if (phase !== "detached") await m.sup.close?.();
    await Promise.all(m.background);
    await m.deps.store.close?.();
    m.after.flush(true);
    m.parts.signals.flushSeries();
    if (phase === "aborted") m.parts.verification.discardAll(reason);
    if (phase !== "detached") m.setPhase(phase);
    s.child_running = m.childAlive && phase === "detached";
    m.deps.journal.write("monitor_stopped", {
      exit_code: code,
      reason,
      phase,
      restarts: s.restarts,
      restarts_total: s.restarts_total,
    });
    m.notify({ kind: "exit", title: "autosentry monitor stopping", body: reason, incident_id: null });
    await m.deps.notifier.close(5000);
    await m.deps.durability?.flush();
    m.deps.state.dispose();
    await m.deps.state.flush(true);
    m.ackRecordedExits();
    for (const [sig, h] of this.signalHandlers) process.off(sig, h);
    m.finished = true;
    m.log.info("autosentry stopped");
    this.resolveDone(code);
  }

  // ------------------------------------------------------------------------------------------
  // input: lines, exits, ticks

  private onExit(given: ChildExit): void {
    const m = this.m;
    // after a completion the exit is a success; past max_run_seconds it has its own class
    const exit = m.parts.signals.recordedExit(given);
    if (exit.generation === m.gen) m.parts.signals.childGone();
    const waiters = m.exitWaiters.get(exit.generation);
    if (exit.generation === m.gen) {
      m.childAlive = false;
      m.deadSinceMs = Date.now();
      const s = m.s;
      s.child_running = false;
      s.child_dead_since = new Date(exit.at).toISOString();
      s.last_exit_code = exit.code;
      s.last_exit_class = exit.exitClass;
      // s.child keeps naming the child until its exit is recorded (exits.ts, then exitRecorded):
      // a monitor killed before that leaves the next one a record to recover the exit from.
      m.deps.state.changed();
    }
    if (!m.condemned.has(exit.generation) && !m.finishing && exit.generation === m.gen) {
      const episodes = m.parts.episodes;
      for (const d of m.deps.detectors.flush(exit.at, exit.generation)) episodes.onDetection(d);
      for (const d of m.deps.detectors.observeExit(exit)) episodes.onDetection(d);
      m.exitPending.add(exit.generation);
      void m.serial(() => m.parts.exits.handleExit(exit));
    } else {
      // Stopped on purpose, or the monitor is stopping: nothing to handle.
      m.exitRecorded(exit.generation);
    }
    m.deps.journal.write("child_exited", {
      generation: exit.generation,
      exit_code: exit.code,
      signal: exit.signal,
      exit_class: exit.exitClass,
    });
    m.log.info(
      `child exited (generation ${exit.generation}, ${exit.exitClass}${exit.code !== null ? `, code ${exit.code}` : ""}${exit.signal ? `, ${exit.signal}` : ""})`,
    );
    m.after.closeGeneration(exit.generation);
    if (waiters) {
      m.exitWaiters.delete(exit.generation);
      for (const w of waiters) w();
    }
  }

  private onTick(): void {
    const m = this.m;
    if (m.finishing) return;
    const now = Date.now();
    for (const d of m.deps.detectors.observeTick(now, m.childAlive, m.gen)) m.parts.episodes.onDetection(d);
    m.parts.verification.checkDeadlines(now);
    m.parts.signals.tick(now);
    this.checkStable(now);
    if (m.childAlive) m.parts.exits.checkStarted(now);
    m.parts.operator.poll();
    m.parts.session.poll();
    this.checkWatchdog(now);
    m.after.flush(false);
    const rec = m.sup.record();
    if (rec) m.s.child = rec;
    m.deps.state.tick(now);
    m.deps.garbage?.tick(now);
  }

  /** A child that ran `backoff_reset_seconds` without failing ends the failure sequence. */
  private checkStable(now: number): void {
    const m = this.m;
    const s = m.s;
    if (
      m.childAlive &&
      (s.consecutive_failures > 0 || s.restarts > 0) &&
      s.child_started_at &&
      isStable(m.policy, Date.parse(s.child_started_at), now)
    ) {
      m.log.info(
        `the child has run ${m.policy.backoff_reset_seconds}s without failing: restart count and backoff reset`,
      );
      m.deps.journal.write("stable", {
        restarts: s.restarts,
        consecutive_failures: s.consecutive_failures,
      });
      s.consecutive_failures = 0;
      s.restarts = 0;
      m.deps.state.changed();
    }
  }

  /** No live child for `dead_child_grace_seconds` while nothing is scheduled: give up. */
  private checkWatchdog(now: number): void {
    const m = this.m;
    const grace = m.cfg.monitor.dead_child_grace_seconds;
    if (grace <= 0 || m.childAlive || m.deadSinceMs === null) return;
    const phase = m.s.phase;
    if (phase === "backoff" || phase === "paused" || phase === "starting" || phase === "stopping") {
      m.deadSinceMs = now;
      return;
    }
    if (now - m.deadSinceMs >= grace * 1000) {
      m.deps.journal.write("dead_child_timeout", { seconds: grace });
      void m.serial(() =>
        this.finish(m.s.last_exit_code || 1, `No live child for ${grace} seconds`, "gave_up"),
      );
    }
  }
}
