/**
 * @module
 * Whether, and whom, to ask about an incident. In session mode nobody here: the Claude Code
 * session is woken (its marker touched) and decides later (session-actions.ts). A detector whose
 * healing is paused (a regression with `regression_action: escalate`) or whose hourly budget is
 * used up gets nothing until `autosentry approve`. Otherwise the healer chain runs: rules first,
 * then the coding agent, within `max_wall_seconds_per_incident`. What they return is applied by
 * actions.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Detection, HealerOutcome } from "../core/types.ts";
import type { Healer } from "../healers/types.ts";
import type { IncidentRef } from "../incidents/types.ts";
import { errMsg, type MonitorContext } from "./context.ts";

/** What healing decided for one incident: an outcome to apply, or none, and why. */
export interface HealingDecision {
  outcome: HealerOutcome | null;
  note: string | undefined;
}

export class Healing {
  constructor(private readonly m: MonitorContext) {}

  /** Ask for an outcome for the incident of `primary` (the incident folder already exists). */
  async decide(
    incident: IncidentRef | null,
    primary: Detection,
    related: Detection[],
  ): Promise<HealingDecision> {
    const m = this.m;
    const attempts = this.recentAttempts(primary.detector, Date.now());
    m.s.attempts_by_detector[primary.detector] = attempts;
    const held = this.withheld(primary.detector, attempts.length);
    if (held !== null) {
      if (held.session) this.touchSessionMarker();
      else m.log.warn(held.note);
      return { outcome: null, note: held.note };
    }
    if (!incident) return { outcome: null, note: undefined };
    const r = await this.heal(incident, primary, related);
    return { outcome: r.outcome, note: r.notes.length > 0 ? r.notes.join("; ") : undefined };
  }

  /**
   * What {@link decide} will answer for this failure when it is known before the incident folder
   * is written: no outcome, and its note (undefined: none). Null when a healer may act, or when
   * that cannot be told without running one. Issue 13: the outcome of a failure nobody acts on
   * (a plain crash loop: the restart policy decides) is then written with the folder, before the
   * restart is requested, instead of rewriting incident.json and report.md after it.
   *
   * No side effect: no healer runs, no attempt is counted or pruned, no marker is touched, nothing
   * is logged. Told only where `decide`, later in the same decision, cannot answer otherwise:
   * session mode (no healer is ever asked), or no usable agent and no rule matching any of the
   * detections ({@link Healer.wouldAct}: the rules answer from the detections alone), where the
   * answer is "no outcome" whether or not the detector's budget or pause holds it back. With an
   * agent nothing is foretold: the agent reads the folder and answers as it likes. The note can
   * still differ in one case, an attempt aging out of the hourly budget in between; episodes.ts
   * compares it with what `decide` answered and records the outcome the old way when they differ.
   */
  foresee(primary: Detection, related: Detection[]): { note: string | undefined } | null {
    const m = this.m;
    const held = this.withheld(primary.detector, this.recentAttempts(primary.detector, Date.now()).length);
    if (held?.session) return { note: held.note };
    if (this.agentUsable()) return null;
    const rules = m.deps.rules;
    if (rules.wouldAct === undefined) return null;
    try {
      if (rules.wouldAct(related)) return null;
    } catch {
      return null;
    }
    return { note: held?.note };
  }

  /** The attempts of `detector` in the rolling hour before `now` (the healing budget's count). */
  private recentAttempts(detector: string, now: number): string[] {
    return (this.m.s.attempts_by_detector[detector] ?? []).filter((t) => now - Date.parse(t) < 3600_000);
  }

  /**
   * Why no healer is asked at all, or null: session mode (the Claude Code session decides), a
   * detector whose healing is paused after a regression, or one past its hourly budget.
   */
  private withheld(detector: string, attemptsInHour: number): { note: string; session: boolean } | null {
    const m = this.m;
    if (m.deps.healingMode === "session") {
      return { note: "session mode: the incident is queued for the Claude Code session", session: true };
    }
    if (m.s.paused_detectors.includes(detector)) {
      return {
        note: `healing is paused for detector ${detector} after a regression; \`autosentry approve\` resumes it`,
        session: false,
      };
    }
    const limit = m.cfg.healing.budget.max_attempts_per_detector_per_hour;
    if (limit > 0 && attemptsInHour >= limit) {
      return {
        note: `healing paused for detector ${detector}: ${attemptsInHour} attempts in the last hour (budget ${limit}); \`autosentry approve\` resumes it`,
        session: false,
      };
    }
    return null;
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
    const m = this.m;
    const s = m.s;
    const agent = this.agentUsable() ? m.deps.agent : null;
    const threshold = m.cfg.healing.escalate_to_claude_after > 0 ? m.cfg.healing.escalate_to_claude_after : 2;
    if (agent && !s.escalated && s.restarts >= threshold) {
      s.escalated = true;
      m.deps.journal.write("escalated", { restarts: s.restarts, threshold });
      m.log.log("CLAUDE", `${s.restarts} unverified restarts: escalating to the agent`);
      m.notify({
        kind: "recovery",
        title: "healer escalation",
        body: `${s.restarts} unverified restarts; the agent now handles failures before rules`,
        incident_id: incident.id,
      });
    }
    const forced = s.force_agent.includes(primary.detector);
    const order: Healer[] =
      agent && (s.escalated || forced) ? [agent, m.deps.rules] : [m.deps.rules, ...(agent ? [agent] : [])];
    if (forced) s.force_agent = s.force_agent.filter((d) => d !== primary.detector);
    const notes: string[] = [];
    const ac = new AbortController();
    m.healAbort = ac;
    // healing.budget.max_wall_seconds_per_incident bounds all healers of one incident together.
    const wallMs = m.cfg.healing.budget.max_wall_seconds_per_incident * 1000;
    const wall = setTimeout(() => {
      notes.push(`healing stopped after max_wall_seconds_per_incident (${wallMs / 1000}s)`);
      ac.abort();
    }, wallMs);
    try {
      for (const h of order) {
        if (h === agent && !this.agentUsable()) continue;
        if (h === agent) m.log.log("CLAUDE", `asking the agent about incident ${incident.id}`);
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
          m.log.error(msg);
          notes.push(msg);
        }
        if (m.finishing || ac.signal.aborted) break;
      }
    } finally {
      clearTimeout(wall);
      m.healAbort = null;
    }
    return { outcome: null, notes };
  }

  private agentUsable(): boolean {
    return this.m.deps.agent !== null && this.m.agentDisabled === null;
  }

  /** The agent cannot work (auth, quota, missing CLI): rules-only from now on, said once. */
  disableAgent(reason: string, kind: string): void {
    const m = this.m;
    if (m.agentDisabled !== null) return;
    m.agentDisabled = reason;
    m.s.agent_disabled = `${kind}: ${reason}`;
    m.deps.state.changed();
    m.deps.journal.write("agent_disabled", { kind, reason });
    m.log.log("CLAUDE", `agent healing disabled (${kind}): ${reason}; continuing with rules only`);
    m.notify({
      kind: "anomaly",
      title: `agent healing disabled: ${kind}`,
      body: `${reason}. autosentry continues with rules only.`,
      incident_id: m.s.last_incident_id,
    });
  }

  /** Session mode: wake the Claude Code session's Stop hook. */
  private touchSessionMarker(): void {
    const m = this.m;
    try {
      const f = m.deps.sessionMarker;
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, `${new Date().toISOString()}\n`);
    } catch (err) {
      m.log.error(`Cannot touch ${m.deps.sessionMarker}: ${errMsg(err)}`);
    }
  }
}
