/**
 * @module
 * Session mode: actions a Claude Code session decided (`autosentry session apply` appends them to
 * the action queue) are drained each tick and applied in the decision queue. An action is applied
 * at once: a restart that the restart policy had already scheduled (and charged) for the same
 * failure is replaced, not added to.
 */
import type { Detection, HealerOutcome } from "../core/types.ts";
import type { AppliedOutcome, IncidentRef } from "../incidents/types.ts";
import type { SessionAction, SessionBatch } from "../session/queue.ts";
import { errMsg, type MonitorContext } from "./context.ts";
import { restartsExhausted, restartsLabel } from "./policy.ts";

export class SessionActions {
  constructor(private readonly m: MonitorContext) {}

  /** Each tick: drain the session's action queue (session mode only). */
  poll(): void {
    const m = this.m;
    const q = m.deps.sessionQueue;
    if (!q) return;
    let batch: SessionBatch;
    try {
      batch = q.drain();
    } catch (err) {
      m.log.error(`Cannot read the session action queue: ${errMsg(err)}`);
      return;
    }
    if (batch.actions.length === 0 && batch.invalid.length === 0) return;
    for (const bad of batch.invalid) {
      m.log.warn(
        `session action queue line ${bad.line}${bad.id ? ` (${bad.id})` : ""} ignored: ${bad.reason}`,
      );
      m.deps.journal.write("session_action_failed", { line: bad.line, id: bad.id, reason: bad.reason });
    }
    const actions = batch.actions;
    void m.serial(async () => {
      for (const a of actions) await this.apply(a);
      try {
        batch.commit();
      } catch (err) {
        m.log.error(`Cannot advance the session action cursor: ${errMsg(err)}`);
      }
    });
  }

  /** Apply one action decided by the Claude Code session. */
  private async apply(a: SessionAction): Promise<void> {
    const m = this.m;
    if (m.finishing) return;
    const s = m.s;
    const entry = (await m.deps.store.list()).find((e) => e.id === a.incident_id);
    const detection: Detection = {
      detector: entry?.detector ?? "session",
      detectorKind: "pattern",
      kind: entry?.kind === "anomaly" ? "anomaly" : "error",
      message: entry?.message ?? `session action for ${a.incident_id}`,
      exceptionType: entry?.exception_type ?? undefined,
      context: [],
      meta: {},
      at: Date.now(),
      generation: entry?.generation ?? m.gen,
    };
    const outcome: HealerOutcome = {
      action: a.action,
      source: a.source === "rule" ? "rule" : a.source === "claude" ? "claude" : "manual",
      ruleName: a.rule ?? undefined,
      detection,
      rationale: `queued by the Claude Code session (${a.id})`,
    };
    const incident: IncidentRef | null = entry ? { id: entry.id, dir: "" } : null;
    m.deps.journal.write("session_action_applied", {
      id: a.id,
      incident_id: a.incident_id,
      action: a.action.kind,
    });
    m.log.log("ACTION", `session: ${a.action.kind} for incident ${a.incident_id}`);
    const kind = a.action.kind;
    if (kind === "abort") {
      await m.record(incident, { outcome });
      await m.finish(130, `Session abort for incident ${a.incident_id}`, "aborted");
      return;
    }
    if (kind === "pause") {
      await m.record(incident, { outcome });
      await m.parts.operator.pause("session", `incident ${a.incident_id}`);
      return;
    }
    const applied: AppliedOutcome = { outcome };
    if (kind === "custom_command") {
      const res = await m.parts.actions.runCustomCommand(a.action);
      applied.commandResult = {
        argv: a.action.command,
        exitCode: res.exitCode,
        timedOut: res.timedOut,
        output: res.output,
      };
    }
    if (kind === "restart_with_env") {
      const r = m.parts.actions.overlayEnv(a.action.set);
      applied.resolvedEnv = r.values;
      if (r.errors.length) applied.note = r.errors.join("; ");
    }
    await m.record(incident, applied);
    if (kind === "custom_command" && m.childAlive) return;
    if (incident) m.parts.verification.add(incident, outcome, kind, m.gen);
    if (m.parts.launching.cancelScheduled()) {
      // The restart policy already scheduled (and charged) a restart for this failure: launch now.
      await m.parts.launching.launch(`session action ${a.id}`);
      return;
    }
    if (restartsExhausted(m.policy, s.restarts)) {
      await m.finish(
        m.exitCodeForGiveUp(),
        `Max restarts reached (${restartsLabel(s.restarts, m.policy.max_restarts)})`,
        "gave_up",
      );
      return;
    }
    await m.parts.launching.restart(
      "healer",
      { reason: detection.message, rule: a.rule, incident: a.incident_id },
      0,
    );
  }
}
