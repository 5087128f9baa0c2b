/**
 * @module
 * Verifying an applied fix. Every restart a healer asked for opens a verification window
 * (`healing.verify_window_seconds`, one per detector) and a `pending` row in the attempts ledger.
 * The same failure from a newer child inside the window is a regression (`regression_action`:
 * revert the agent's edits, or pause healing for the detector until approve); a window that
 * passes, or a child that completes, keeps the fix (restarts := 0; an agent's fix branch is kept,
 * optionally merged, and a pull request opened).
 */
import type { Detection, HealerOutcome } from "../core/types.ts";
import type { IncidentRef } from "../incidents/types.ts";
import { errMsg, type MonitorContext } from "./context.ts";
import type { PendingVerification } from "./state.ts";

type LedgerStatus = "kept" | "regressed" | "crashed" | "discarded";

export class Verification {
  constructor(private readonly m: MonitorContext) {}

  /**
   * Start the verification window of an applied outcome, and its ledger row. Both are filed under
   * `about`, the incident's own (primary) detection, even when a rule answered another detection
   * of the same episode: the incident, the index, the hourly budget, the ledger and a regression
   * pause then all name one detector.
   */
  add(
    incident: IncidentRef,
    outcome: HealerOutcome,
    action: string,
    generation: number,
    about: Detection = outcome.detection,
  ): void {
    const m = this.m;
    const s = m.s;
    const fix = outcome.fix as { branch?: string | null } | undefined;
    const ledgerSource = outcome.source === "rule" ? (outcome.ruleName ?? "rule") : outcome.source;
    const pv: PendingVerification = {
      incident_id: incident.id,
      detector: about.detector,
      fingerprint: m.deps.fingerprint(about),
      source: outcome.source,
      rule: outcome.ruleName ?? null,
      action,
      deadline: new Date(Date.now() + m.cfg.healing.verify_window_seconds * 1000).toISOString(),
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
      m.deps.ledger.append({
        incident_id: incident.id,
        detector: pv.detector,
        source: ledgerSource,
        branch: pv.branch ?? null,
        description: about.message,
      });
    } catch (err) {
      m.writeFailed("attempts.tsv", err, `Cannot write the attempts ledger: ${errMsg(err)}`);
    }
    m.deps.state.changed();
  }

  /**
   * The run ends before its windows can close (an abort): no fix is kept or judged, every open
   * window is discarded in the ledger, and `status` no longer reports fixes under verification.
   */
  discardAll(why: string): void {
    const m = this.m;
    const open = m.s.pending_verifications;
    if (open.length === 0) return;
    for (const pv of open) this.ledgerUpdate(pv, "discarded");
    m.log.info(`verification of ${open.length} fix(es) ended unjudged: ${why}`);
    m.s.pending_verifications = [];
    m.deps.state.changed();
  }

  private ledgerUpdate(pv: PendingVerification, status: LedgerStatus): void {
    try {
      const seconds = (Date.now() - Date.parse(pv.applied_at)) / 1000;
      this.m.deps.ledger.update(pv.incident_id, pv.ledger_source, status, Math.round(seconds * 10) / 10);
    } catch (err) {
      this.m.log.error(`Cannot update the attempts ledger: ${errMsg(err)}`);
    }
  }

  /** Every detection: does it bring back a failure whose fix is under verification? */
  checkRegression(d: Detection): void {
    const m = this.m;
    const s = m.s;
    if (s.pending_verifications.length === 0) return;
    const byFingerprint = m.cfg.healing.verify_match === "fingerprint";
    const fp = byFingerprint ? m.deps.fingerprint(d) : "";
    const hit = s.pending_verifications.find(
      (p) =>
        p.detector === d.detector && d.generation > p.generation && (!byFingerprint || p.fingerprint === fp),
    );
    if (!hit) return;
    s.pending_verifications = s.pending_verifications.filter((p) => p !== hit);
    m.deps.journal.write("recovery_regressed", {
      incident_id: hit.incident_id,
      detector: hit.detector,
      source: hit.source,
    });
    m.log.log(
      "RECOVERY",
      `fix for '${hit.detector}' (incident ${hit.incident_id}) regressed: the same failure came back`,
    );
    this.ledgerUpdate(hit, "regressed");
    if (hit.source === "rule" && m.cfg.healing.escalate_on_rule_regression && m.deps.agent) {
      if (!s.force_agent.includes(hit.detector)) s.force_agent.push(hit.detector);
    }
    m.deps.state.changed();
    void m.serial(() => this.onRegressed(hit));
  }

  /** `healing.regression_action` for a fix whose failure came back. */
  private async onRegressed(pv: PendingVerification): Promise<void> {
    const m = this.m;
    const action = m.cfg.healing.regression_action;
    if (action === "revert" && pv.fix) {
      try {
        const res = await m.deps.fixes.revert(pv.fix);
        m.log.log("RECOVERY", `reverted the agent's edits of incident ${pv.incident_id}: ${res}`);
        m.deps.journal.write("fix_reverted", { incident_id: pv.incident_id, result: res });
      } catch (err) {
        m.log.error(`Cannot revert the agent's edits of incident ${pv.incident_id}: ${errMsg(err)}`);
        m.notify({
          kind: "anomaly",
          title: `[${pv.detector}] could not revert the agent's fix`,
          body: errMsg(err),
          incident_id: pv.incident_id,
        });
      }
    } else if (action === "escalate") {
      const s = m.s;
      if (!s.paused_detectors.includes(pv.detector)) s.paused_detectors.push(pv.detector);
      m.deps.state.changed();
      m.notify({
        kind: "anomaly",
        title: `[${pv.detector}] regression — escalating`,
        body: `the fix of incident ${pv.incident_id} did not hold; healing for ${pv.detector} is paused until \`autosentry approve\``,
        incident_id: pv.incident_id,
      });
    }
  }

  /** Each tick: windows that passed with a newer child running keep their fix. */
  checkDeadlines(now: number): void {
    const m = this.m;
    const s = m.s;
    if (s.pending_verifications.length === 0) return;
    for (const pv of s.pending_verifications) {
      if (Date.parse(pv.deadline) <= now && m.gen > pv.generation)
        this.keep(pv, `no recurrence in ${m.cfg.healing.verify_window_seconds}s`);
    }
  }

  /** The fix held: restarts := 0, ledger `kept`, the agent's branch kept (and a PR opened). */
  keep(pv: PendingVerification, why: string): void {
    const m = this.m;
    const s = m.s;
    s.pending_verifications = s.pending_verifications.filter((p) => p !== pv);
    s.restarts = 0;
    s.escalated = false;
    this.ledgerUpdate(pv, "kept");
    if (pv.fix) {
      const fix = pv.fix;
      void m.serial(() => this.keepFix(pv, fix));
    }
    m.deps.journal.write("recovery_verified", {
      incident_id: pv.incident_id,
      detector: pv.detector,
      source: pv.source,
      why,
    });
    m.log.log("RECOVERY", `fix for '${pv.detector}' (incident ${pv.incident_id}) verified — ${why}`);
    m.deps.state.changed();
  }

  /** Keep (optionally merge) the agent's fix branch, then open a pull request if configured. */
  private async keepFix(pv: PendingVerification, fix: unknown): Promise<void> {
    const m = this.m;
    try {
      const res = await m.deps.fixes.keep(fix, m.cfg.healing.git.auto_merge);
      m.log.log("RECOVERY", `kept the agent's fix of incident ${pv.incident_id}: ${res}`);
      m.deps.journal.write("fix_kept", { incident_id: pv.incident_id, result: res });
    } catch (err) {
      m.log.error(`Cannot keep the agent's fix of incident ${pv.incident_id}: ${errMsg(err)}`);
    }
    if (m.cfg.healing.github.open_pr) {
      try {
        const url = await m.deps.fixes.openPullRequest(fix, pv.incident_id);
        m.log.log("RECOVERY", `pull request for incident ${pv.incident_id}: ${url}`);
        m.deps.journal.write("pull_request_opened", { incident_id: pv.incident_id, url });
        m.notify({
          kind: "recovery",
          title: `[${pv.detector}] fix kept: pull request opened`,
          body: url,
          incident_id: pv.incident_id,
        });
      } catch (err) {
        m.log.error(`Cannot open a pull request for incident ${pv.incident_id}: ${errMsg(err)}`);
        m.deps.journal.write("pull_request_failed", {
          incident_id: pv.incident_id,
          error: errMsg(err),
        });
      }
    }
  }
}

/** A fix record for state.json: the diff itself is in the incident's fix/diff.patch. */
function withoutDiff(fix: unknown): unknown {
  if (fix === null || typeof fix !== "object") return fix;
  const { diff: _diff, ...rest } = fix as Record<string, unknown>;
  return rest;
}
