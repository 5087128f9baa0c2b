/**
 * @module
 * Launching the child and stopping it on purpose: the launch itself (rate limit, generation,
 * environment, the backend's start), a restart (counted, backoff delay, stop, schedule), the
 * scheduled launch (backoff timer) and stopping the running child so that its exit is expected.
 *
 * Seams: {@link Launching.childEnv} is the one place the child's environment is composed (the
 * launch and custom commands use it; a new launch-time variable, e.g. a checkpoint to resume
 * from, goes there and into `envOverrides` of {@link Launching.launch}); {@link Launching.stopChild}
 * is the one place a child is stopped on purpose (a new stop signal or pre-stop step goes there;
 * the monitor's own shutdown in monitor.ts stops it through the same backend call).
 */
import { childEnvironment } from "../healers/env-overlay.ts";
import type { StopReason } from "../supervisors/types.ts";
import { errMsg, type MonitorContext, sleep } from "./context.ts";
import { pruneWindow, type RestartCause, rateLimited, restartDelaySeconds, restartsLabel } from "./policy.ts";
import { pushCapped } from "./state.ts";

/** Why a restart happened, for restart_history and the journal. */
export interface RestartInfo {
  reason: string;
  rule: string | null;
  incident: string | null;
}

export class Launching {
  constructor(private readonly m: MonitorContext) {}

  /** The child's environment: the monitor's, then `process.env`, then the run's env overlay. */
  childEnv(): Record<string, string> {
    const m = this.m;
    return childEnvironment(m.env, m.cfg.process.env, m.s.env_overlay);
  }

  /** Stop the current child (if alive) and schedule the next launch per the restart policy. */
  async restart(cause: RestartCause, info: RestartInfo, delayOverride?: number): Promise<void> {
    const m = this.m;
    const s = m.s;
    if (s.desired === "paused") {
      // Paused while this restart was being decided (e.g. during a slow healer): stay stopped.
      m.condemned.add(m.gen);
      await this.stopChild("pause");
      m.setPhase("paused");
      return;
    }
    s.consecutive_failures += 1;
    const delay = delayOverride ?? restartDelaySeconds(m.policy, s.consecutive_failures, cause);
    s.restarts += 1;
    s.restarts_total += 1;
    s.last_restart_at = new Date().toISOString();
    pushCapped(s.restart_history, {
      time: s.last_restart_at,
      reason: m.red(info.reason.slice(0, 500)),
      rule: info.rule,
      new_pid: null,
      incident_id: info.incident,
      delay_seconds: delay,
    });
    // The decision for this child is made: its exit (if still to come, or already queued) and any
    // late detection of it must not be handled a second time.
    m.condemned.add(m.gen);
    await this.stopChild("restart");
    const why = `restart ${restartsLabel(s.restarts, m.policy.max_restarts)}`;
    m.deps.journal.write("restart_scheduled", {
      cause,
      delay_seconds: delay,
      restarts: s.restarts,
      incident_id: info.incident,
    });
    m.log.log(
      "RECOVERY",
      `${why} ${delay > 0 ? `in ${delay}s` : "now"} (${cause === "healer" ? (info.rule ?? "healer") : "restart policy"})`,
    );
    // No delay: launch within this decision rather than through a timer and the decision queue,
    // so nothing else is decided between the failure and its restart (issue 13: restart latency).
    if (delay === 0 && !m.finishing) {
      this.cancelScheduled();
      await this.launch(why);
      return;
    }
    this.schedule(delay, why);
  }

  /** Launch in `delaySeconds` (phase backoff; `next_restart_at` in state.json). */
  schedule(delaySeconds: number, why: string): void {
    const m = this.m;
    if (m.restartTimer) clearTimeout(m.restartTimer);
    m.s.next_restart_at = new Date(Date.now() + delaySeconds * 1000).toISOString();
    m.setPhase("backoff");
    m.deps.state.changed();
    m.restartTimer = setTimeout(() => {
      m.restartTimer = null;
      void m.serial(() => this.launch(why));
    }, delaySeconds * 1000);
  }

  /** Cancel a scheduled launch; true if one was pending. */
  cancelScheduled(): boolean {
    const m = this.m;
    const had = m.restartTimer !== null;
    if (m.restartTimer) clearTimeout(m.restartTimer);
    m.restartTimer = null;
    return had;
  }

  /** Stop the running child on purpose; its exit is expected and handled as such. */
  async stopChild(reason: Exclude<StopReason, "shutdown">): Promise<void> {
    const m = this.m;
    const g = m.gen;
    m.condemned.add(g);
    if (!m.childAlive) return;
    const exited = new Promise<void>((resolve) => {
      const list = m.exitWaiters.get(g) ?? [];
      list.push(resolve);
      m.exitWaiters.set(g, list);
    });
    await m.parts.signals.beforeStop();
    try {
      await m.sup.stop(reason, m.cfg.process.stop_grace_seconds);
    } catch (err) {
      m.log.error(`Cannot stop the child: ${errMsg(err)}`);
    }
    await Promise.race([exited, sleep(2000)]);
  }

  /** Launch a child (initial start, scheduled restart, resume). */
  async launch(why: string): Promise<void> {
    const m = this.m;
    if (m.finishing) return;
    const s = m.s;
    s.next_restart_at = null;
    if (s.desired === "paused") {
      m.setPhase("paused");
      return;
    }
    const now = Date.now();
    s.restart_window = pruneWindow(s.restart_window, m.policy, now);
    if (m.launchedThisRun && rateLimited(m.policy, s.restart_window)) {
      const reason = `Restart rate limit reached: ${s.restart_window.length} launches within ${m.policy.restart_window_seconds} seconds`;
      m.deps.journal.write("restart_rate_limited", { launches: s.restart_window.length });
      await m.finish(m.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    const p = m.cfg.process;
    // attach watches a process something else started: it has no command.
    if (p.command.length === 0 && m.sup.kind !== "attach") {
      await m.finish(2, "process.command is empty: nothing to run", "gave_up");
      return;
    }
    // the previous child's last metric points are written under its own generation
    m.parts.signals.flushSeries();
    const generation = s.generation + 1;
    s.generation = generation;
    m.gen = generation;
    m.forgetOldGenerations(generation);
    m.setPhase("starting");
    m.deps.journal.write("child_start_requested", { generation, why });
    m.deps.detectors.onChildStart(generation, now);
    m.unresolved = null;
    // issue 11: the checkpoint to resume from (AUTOSENTRY_RESUME_FROM, process.resume.arg_template)
    const extra = await m.parts.signals.launchExtras(why);
    // What the failure wrote without fsync (incident folder, index and journal lines) is made
    // durable from here on, while the capture process starts the child (docs/reliability.md).
    m.deps.durability?.now();
    try {
      const record = await m.sup.start({
        generation,
        argv: [...p.command, ...extra.args],
        cwd: p.cwd,
        env: { ...this.childEnv(), ...extra.env },
        envOverrides: { ...p.env, ...s.env_overlay, ...extra.env },
      });
      m.parts.signals.childStarted(record);
      m.childAlive = true;
      m.deadSinceMs = null;
      m.launchedThisRun = true;
      s.restart_window.push(new Date().toISOString());
      s.child = record;
      s.pid = record.pid;
      s.started_at = new Date(record.startedAt).toISOString();
      s.child_started_at = s.started_at;
      s.child_running = true;
      s.child_dead_since = null;
      const last = s.restart_history[s.restart_history.length - 1];
      if (why !== "initial start" && last && last.new_pid === null) last.new_pid = record.pid;
      // Complete now, and never changed again: frozen, so that state.json and every incident's copy
      // print it once instead of at each write (state.ts `stateText`, the store's `recordKey`).
      if (last && last.new_pid !== null && !Object.isFrozen(last)) Object.freeze(last);
      m.setPhase("running");
      // In state.json before this child's exit can be handled: a monitor killed after the exit
      // reached it must leave the next monitor a record to recover that exit from (issue 16).
      await m.deps.state.recordNow();
      m.deps.journal.write("child_started", { generation, pid: record.pid, why });
      const overlay = Object.keys(s.env_overlay).length
        ? ` with ${Object.entries(s.env_overlay)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : "";
      m.log.info(`child started (pid ${record.pid ?? "?"}, generation ${generation}, ${why})${overlay}`);
      // A pause applied while this child was being started found no child to stop (and its
      // phase was overwritten above): stop this one now, so the pause holds and is confirmed.
      // (m.s, not s: TypeScript narrowed s.desired at the top, before the awaits.)
      if (m.s.desired === "paused") {
        await this.stopChild("pause");
        m.setPhase("paused");
      }
    } catch (err) {
      const msg = errMsg(err);
      // Stopped mid-launch (SIGTERM while the capture process started): nothing to restart.
      if (m.finishing) {
        m.log.info(`the launch of generation ${generation} was cut short by the stop: ${msg}`);
        return;
      }
      m.log.error(`Cannot start the child: ${msg}`);
      m.deps.journal.write("child_start_failed", { generation, error: msg });
      if (!m.launchedThisRun) {
        await m.finish(1, `Cannot start the child: ${msg}`, "gave_up");
        return;
      }
      s.last_exit_code = 127;
      m.childAlive = false;
      m.deadSinceMs = Date.now();
      await m.parts.actions.fallback(null);
    }
  }
}
