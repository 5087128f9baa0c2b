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
    const s = m.s;
    // Healing budget per detector (a rolling hour).
    const limit = m.cfg.healing.budget.max_attempts_per_detector_per_hour;
    const now = Date.now();
    const attempts = (s.attempts_by_detector[primary.detector] ?? []).filter(
      (t) => now - Date.parse(t) < 3600_000,
    );
    s.attempts_by_detector[primary.detector] = attempts;
    let outcome: HealerOutcome | null = null;
    let note: string | undefined;
    if (m.deps.healingMode === "session") {
      note = "session mode: the incident is queued for the Claude Code session";
      this.touchSessionMarker();
    } else if (s.paused_detectors.includes(primary.detector)) {
      note = `healing is paused for detector ${primary.detector} after a regression; \`autosentry approve\` resumes it`;
      m.log.warn(note);
    } else if (limit > 0 && attempts.length >= limit) {
      note = `healing paused for detector ${primary.detector}: ${attempts.length} attempts in the last hour (budget ${limit}); \`autosentry approve\` resumes it`;
      m.log.warn(note);
    } else if (incident) {
      const r = await this.heal(incident, primary, related);
      outcome = r.outcome;
      note = r.notes.length > 0 ? r.notes.join("; ") : undefined;
    }
    return { outcome, note };
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
