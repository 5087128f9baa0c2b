/**
 * @module
 * The exit of the current child (one the monitor did not stop on purpose; those are "condemned"
 * and ignored here). A scheduler's preemption, node failure or time limit is requeued without a
 * healer; exit 0 keeps pending fixes and completes (or relaunches under `restart_always`); any
 * other exit settles the open episode (which the exit detection joined) or, with none, goes to the
 * restart policy's fallback.
 */

import * as path from "node:path";
import type { ChildExit } from "../core/types.ts";
import type { MonitorContext } from "./context.ts";
import {
  noStartupFailures,
  noteFailedExit,
  noteRunning,
  type StartupReport,
  StartupReporter,
} from "./startup-failures.ts";

export class Exits {
  /** When a streak of launches that cannot start is said (not at every launch; see its module). */
  private readonly startup = new StartupReporter();

  constructor(private readonly m: MonitorContext) {}

  /** Each tick, while a child is alive: one that outlived the startup window ends a streak. */
  checkStarted(now: number): void {
    this.startupEnded(noteRunning(this.m.s, now));
  }

  private startupEnded(count: number): void {
    if (count === 0) return;
    const line = this.startup.onEnded(count);
    if (line === null) return;
    this.m.log.info(line);
    this.m.deps.journal.write("startup_failures", { count: 0, code: null, ended_after: count });
  }

  private sayStartup(r: StartupReport): void {
    const f = this.m.s.startup_failures;
    this.m.log.warn(r.message);
    this.m.deps.journal.write("startup_failures", { count: f.count, code: f.last_code, said: r.said });
  }

  /**
   * Exit of the current child (not one we stopped); runs in the decision queue. Once it is decided
   * (incident written, restart issued or the run ended), the exit counts as recorded.
   */
  async handleExit(exit: ChildExit): Promise<void> {
    try {
      await this.decide(exit);
    } finally {
      this.m.exitRecorded(exit.generation);
    }
  }

  private async decide(exit: ChildExit): Promise<void> {
    const m = this.m;
    m.exitPending.delete(exit.generation);
    if (m.condemned.has(exit.generation) || m.finishing) return;
    const s = m.s;
    if (exit.exitClass === "preempted" || exit.exitClass === "node_fail" || exit.exitClass === "timeout") {
      await this.requeue(exit);
      return;
    }
    if (exit.exitClass === "success") {
      const ended = s.startup_failures?.count ?? 0;
      s.startup_failures = noStartupFailures();
      this.startupEnded(ended);
      s.identical = { signature: null, count: 0 };
      for (const pv of s.pending_verifications.filter((p) => p.generation < exit.generation)) {
        m.parts.verification.keep(pv, "the child completed successfully");
      }
      const ep = m.parts.episodes.take(exit.generation);
      if (ep) await m.parts.episodes.recordCompleted(ep);
      const lc = m.cfg.process.lifecycle;
      if (lc === "restart_always") {
        const delay = m.policy.cooldown_seconds;
        m.log.info(`child completed; restart_always relaunches in ${delay}s (not charged to max_restarts)`);
        m.parts.launching.schedule(delay, "restart_always relaunch");
        return;
      }
      await m.finish(
        0,
        lc === "one_shot" ? "Child exited with code 0 (one_shot)" : "Child completed successfully",
        "completed",
      );
      return;
    }
    // A child that dies within seconds of every launch cannot start: say so where the user looks.
    const processLog = path.join(m.cfg.monitor.log_dir, "process.log");
    // state.startup_failures is exact at every launch; the warning follows the reporter's schedule.
    const before = s.startup_failures?.count ?? 0;
    noteFailedExit(s, exit, processLog, (t) => m.red(t));
    if (s.startup_failures.count === 0) this.startupEnded(before);
    else {
      const said = this.startup.onFailure(s.startup_failures);
      if (said) this.sayStartup(said);
    }
    const ep = m.parts.episodes.take(exit.generation);
    if (ep) {
      await m.parts.episodes.settle(ep);
      return;
    }
    // No detection passed (e.g. the exit detector is on cooldown): the policy decides.
    await m.parts.actions.fallback(null);
  }

  /**
   * A scheduler ended the job for reasons of its own: preemption and node failure are relaunched
   * at once without counting against max_restarts; a time limit has its own small budget
   * (`process.extra.timeout_requeues`). Neither is a bug, so no healer is asked.
   */
  private async requeue(exit: ChildExit): Promise<void> {
    const m = this.m;
    const s = m.s;
    m.parts.episodes.take(exit.generation);
    if (exit.exitClass === "timeout") {
      const budget = m.cfg.process.extra.timeout_requeues;
      s.timeout_requeues += 1;
      if (s.timeout_requeues > budget) {
        await m.finish(
          exit.code !== null && exit.code !== 0 ? exit.code : 1,
          `Time limit reached ${s.timeout_requeues} times (timeout_requeues ${budget})`,
          "gave_up",
        );
        return;
      }
    }
    s.requeues_total += 1;
    const why = `${exit.exitClass} requeue${exit.exitClass === "timeout" ? ` ${s.timeout_requeues}/${m.cfg.process.extra.timeout_requeues}` : ""}`;
    m.deps.journal.write("requeued", { exit_class: exit.exitClass, detail: exit.detail ?? null });
    m.log.log(
      "RECOVERY",
      `${why}: relaunching (not charged to max_restarts)${exit.detail ? ` — ${exit.detail}` : ""}`,
    );
    m.parts.launching.schedule(0, why);
  }
}
