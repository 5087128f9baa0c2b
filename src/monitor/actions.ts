/**
 * @module
 * Applying a healer's outcome, and the fallback when there is none. `abort` and `pause` end or
 * hold the job; a `custom_command` runs (timeout, the child's environment, its output into the
 * incident) and an ACTION block in its output is applied next; `restart_with_env` resolves its
 * overlay (`half`/`double` against the current value); every restart is bounded by `max_restarts`,
 * opens a verification window and goes to launching.ts. The fallback is the restart policy's
 * answer to a dead child nobody healed (one_shot, no_retry_exit_codes, max_restarts, backoff).
 *
 * A new action kind: add it to `Action` (src/core/types.ts) and the rules schema, then decide here
 * what it does before the restart path (and in session-actions.ts, if a session may queue it).
 */
import type { Action, Detection, HealerOutcome } from "../core/types.ts";
import { type ResolvedOverlay, resolveOverlay } from "../healers/env-overlay.ts";
import type { AppliedOutcome, IncidentRef } from "../incidents/types.ts";
import type { RunCommandResult } from "../util/run-command.ts";
import type { MonitorContext } from "./context.ts";
import { restartsExhausted, restartsLabel } from "./policy.ts";
import { pushCapped } from "./state.ts";

export class Actions {
  constructor(private readonly m: MonitorContext) {}

  /** Apply `outcome` for the incident of `primary` (a failure of child `generation`). */
  async apply(
    outcome: HealerOutcome,
    incident: IncidentRef | null,
    primary: Detection,
    generation: number,
  ): Promise<void> {
    const m = this.m;
    const s = m.s;
    const action = outcome.action;
    const label = outcome.ruleName ?? outcome.source;
    if (s.desired === "paused" && action.kind !== "abort") {
      await m.record(incident, {
        outcome,
        note: "the job was paused while this was decided; nothing was applied",
      });
      m.setPhase("paused");
      return;
    }
    const attempts = s.attempts_by_detector[primary.detector] ?? [];
    s.attempts_by_detector[primary.detector] = attempts;
    pushCapped(attempts, new Date().toISOString());
    m.deps.journal.write("recovery_started", {
      incident_id: incident?.id ?? null,
      action: action.kind,
      source: outcome.source,
      rule: outcome.ruleName ?? null,
    });
    m.log.log("ACTION", `${label} → ${action.kind}${incident ? ` (incident ${incident.id})` : ""}`);

    if (action.kind === "abort") {
      await m.record(incident, { outcome });
      m.notifyIncident(primary, outcome, incident);
      await m.finish(1, `Recovery requested abort for incident ${incident?.id ?? "?"}`, "aborted");
      return;
    }
    if (action.kind === "pause") {
      await m.record(incident, { outcome });
      m.notifyIncident(primary, outcome, incident);
      await m.parts.operator.pause(`rule ${label}`, `incident ${incident?.id ?? "?"}`);
      return;
    }

    if (!m.sup.capabilities.restart && action.kind !== "custom_command") {
      const note = `the ${m.sup.kind} backend cannot ${action.kind === "restart_with_env" ? "restart" : action.kind} the process; nothing was applied`;
      m.log.warn(note);
      await m.record(incident, { outcome, note });
      m.notifyIncident(primary, outcome, incident);
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
      const follow = m.deps.parseActionBlock(res.output);
      if (follow && follow.kind !== "custom_command") {
        applied.note = `the command's output asked for ${follow.kind}`;
        effective = follow;
      } else if (m.childAlive && m.gen === generation) {
        await m.record(incident, applied);
        m.deps.journal.write("recovery_applied", {
          incident_id: incident?.id ?? null,
          action: "custom_command",
        });
        m.notifyIncident(primary, outcome, incident);
        return;
      } else {
        effective = { kind: "restart", set: {}, command: [], notify: action.notify };
      }
      if (effective.kind === "abort") {
        await m.record(incident, applied);
        await m.finish(1, `Recovery requested abort for incident ${incident?.id ?? "?"}`, "aborted");
        return;
      }
      if (effective.kind === "pause") {
        await m.record(incident, applied);
        await m.parts.operator.pause(`rule ${label}`, `incident ${incident?.id ?? "?"}`);
        return;
      }
    }
    if (effective.kind === "restart_with_env") {
      const r = this.overlayEnv(effective.set);
      applied.resolvedEnv = r.values;
      for (const e of r.errors) m.log.error(`restart_with_env: ${e}`);
      if (r.errors.length > 0) applied.note = [applied.note, ...r.errors].filter(Boolean).join("; ");
      if (r.notes.length > 0) m.log.log("ACTION", `env overrides: ${r.notes.join(", ")}`);
    }

    if (restartsExhausted(m.policy, s.restarts)) {
      const reason = `Max restarts reached (${restartsLabel(s.restarts, m.policy.max_restarts)})`;
      applied.note = [applied.note, reason].filter(Boolean).join("; ");
      await m.record(incident, applied);
      m.notifyIncident(primary, outcome, incident);
      await m.finish(m.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    await m.record(incident, applied);
    m.notifyIncident(primary, outcome, incident);
    if (incident) {
      m.parts.verification.add(incident, outcome, effective.kind, generation, primary);
    }
    m.deps.journal.write("recovery_applied", {
      incident_id: incident?.id ?? null,
      action: effective.kind,
    });
    await m.parts.launching.restart("healer", {
      reason: primary.message,
      rule: outcome.ruleName ?? null,
      incident: incident?.id ?? null,
    });
  }

  /**
   * Resolve a `restart_with_env` overlay (literal values, or `half`/`double` of the current value)
   * into the run's env overlay, which every later launch uses.
   */
  overlayEnv(set: Record<string, string>): ResolvedOverlay {
    const m = this.m;
    const s = m.s;
    const r = resolveOverlay(set, {
      overlay: s.env_overlay,
      processEnv: m.cfg.process.env,
      monitorEnv: m.env,
    });
    Object.assign(s.env_overlay, r.values);
    // A custom command's `SET: DB_PASSWORD=…` is a secret the job may print bare (issue 16).
    m.deps.learnSecrets?.(r.values);
    return r;
  }

  /** Run a custom command in the child's cwd and environment. */
  async runCustomCommand(action: Action): Promise<RunCommandResult> {
    const m = this.m;
    const env = m.parts.launching.childEnv();
    m.log.log("ACTION", `running custom command ${JSON.stringify(action.command)}`);
    const res = await m.deps.runCommand(action.command, {
      cwd: m.cfg.process.cwd,
      env,
      timeoutMs: (action.timeout_seconds ?? 300) * 1000,
    });
    m.log.log(
      "ACTION",
      `custom command ended: ${res.timedOut ? "timed out" : `exit ${res.exitCode ?? res.signal ?? "?"}`}${res.error ? ` (${res.error})` : ""}`,
    );
    return res;
  }

  /** No healer answered and the child is gone: lifecycle and restart policy decide. */
  async fallback(incident: IncidentRef | null): Promise<void> {
    const m = this.m;
    const s = m.s;
    if (s.desired === "paused") {
      // Paused while this failure was being decided: nothing starts until resume.
      m.setPhase("paused");
      return;
    }
    const code = s.last_exit_code;
    if (m.cfg.process.lifecycle === "one_shot") {
      await m.finish(code ?? 1, `Child exited with code ${code ?? "unknown"} (one_shot)`, "stopped");
      return;
    }
    if (code !== null && m.policy.no_retry_exit_codes.includes(code)) {
      await m.finish(code, `Exit code ${code} is listed in no_retry_exit_codes; not restarting`, "gave_up");
      return;
    }
    if (restartsExhausted(m.policy, s.restarts)) {
      const reason = `Max restarts reached (${restartsLabel(s.restarts, m.policy.max_restarts)})`;
      m.notify({
        kind: "exit",
        title: "max restarts reached",
        body: reason,
        incident_id: incident?.id ?? null,
      });
      await m.finish(m.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }
    await m.parts.launching.restart("fallback", {
      reason: `restart policy after exit ${code ?? "unknown"}`,
      rule: null,
      incident: incident?.id ?? null,
    });
  }
}
