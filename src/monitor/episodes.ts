/**
 * @module
 * Failure episodes: detections of one child generation are gathered for `monitor.settle_seconds`
 * (or until the child exits) and then settled as one incident. Settling counts the failure for the
 * identical-failure guard, writes the incident folder **before** any healer runs, asks the healing
 * part for an outcome and hands it to the actions part (or, with none, leaves the incident open
 * while the child lives, or lets the restart policy decide).
 */
import * as path from "node:path";
import type { Detection, DetectionKind } from "../core/types.ts";
import { readIncident } from "../incidents/read.ts";
import type { IncidentRef } from "../incidents/types.ts";
import { errMsg, type MonitorContext } from "./context.ts";
import { type Episode, primaryDetection } from "./episode.ts";
import { cutAtFailure, type FailureCut, linesAfterFailure } from "./excerpt.ts";
import { failureSignature } from "./policy.ts";
import { pushCapped } from "./state.ts";
import { testHold } from "./test-hold.ts";

/** The outcome note of a failure nobody acted on, with its child dead: the restart policy decides. */
const POLICY_NOTE = "No rule matched; the restart policy decides";

/** How long lines after a failure are gathered for its log excerpt at most. */
const AFTER_LINES_MAX_WAIT_MS = 10_000;

/** The failure incident `ref` recorded (for its signature), else `fallback`. */
function recordedFailure(ref: IncidentRef, fallback: Detection): Detection {
  const got = readIncident(path.dirname(ref.dir), ref.id);
  const r = got.ok ? got.incident.record : null;
  if (!r) return fallback;
  return {
    ...fallback,
    detector: r.detector,
    kind: r.kind as DetectionKind,
    message: r.message,
    exceptionType: r.exception_type ?? undefined,
  };
}

export class Episodes {
  /** The excerpt cut at each detection's failure line, taken when it was detected. */
  private readonly cuts = new WeakMap<Detection, FailureCut>();

  constructor(private readonly m: MonitorContext) {}

  /** A detection: open an episode or join the open one of the same child. */
  onDetection(d: Detection): void {
    const m = this.m;
    if (m.finishing) return;
    if (m.parts.signals.onDetection(d)) return;
    const seen = d.generation === m.gen ? (m.deps.detectors.linesSeen?.() ?? 0) : 0;
    this.cuts.set(d, cutAtFailure(m.excerpt, linesAfterFailure(d.meta, seen), d.context));
    const level = d.kind === "anomaly" ? "ANOMALY" : "ERROR";
    m.log.log(level, `[${d.detector}] ${d.message}`);
    m.deps.journal.write("detection", {
      detector: d.detector,
      kind: d.kind,
      message: d.message,
      exception_type: d.exceptionType ?? null,
      generation: d.generation,
    });
    m.parts.verification.checkRegression(d);
    const ep = m.episode;
    if (ep && ep.generation === d.generation) {
      ep.detections.push(d);
      return;
    }
    if (ep) {
      // A detection from a newer child while an older episode waits: decide the old one now.
      this.settleNow();
    }
    const seed =
      d.detectorKind === "exit_code" && m.unresolved?.generation === d.generation ? m.unresolved : null;
    m.episode = {
      generation: d.generation,
      detections: seed ? [...seed.detections, d] : [d],
      openedAt: Date.now(),
      timer: null,
      incident: seed ? seed.incident : null,
    };
    if (seed) m.unresolved = null;
    // Not only while the child is known alive: its first lines can arrive before start() returns.
    // If the child exits first, its exit settles the episode and clears this timer.
    if (d.detectorKind !== "exit_code") {
      const wait = m.cfg.monitor.settle_seconds * 1000;
      const g = d.generation;
      // Once the child's exit is queued, the exit decides this episode (with the exit detection in it).
      m.episode.timer = setTimeout(() => {
        if (!m.exitPending.has(g)) this.settleNow();
      }, wait);
    }
  }

  /** Take the open episode of `generation` (its settle timer cleared), or null. */
  take(generation: number): Episode | null {
    const ep = this.m.episode;
    if (!ep || ep.generation !== generation) return null;
    if (ep.timer) clearTimeout(ep.timer);
    this.m.episode = null;
    return ep;
  }

  /** Decide the open episode (queued behind earlier decisions). */
  private settleNow(): void {
    const m = this.m;
    const ep = m.episode;
    if (!ep) return;
    if (ep.timer) clearTimeout(ep.timer);
    m.episode = null;
    void m.serial(() => this.settle(ep));
  }

  /** Decide an episode: count it, write its incident, heal, apply (runs in the decision queue). */
  async settle(ep: Episode): Promise<void> {
    const m = this.m;
    if (m.condemned.has(ep.generation)) {
      m.deps.journal.write("detection_ignored", {
        generation: ep.generation,
        reason: "child already being replaced",
      });
      return;
    }
    const s = m.s;
    const primary = primaryDetection(ep.detections);
    const alive = m.childAlive && m.gen === ep.generation;

    // A killed predecessor wrote this failure's incident already (recovered exit): not twice.
    const prior = m.recorded?.generation === ep.generation ? m.recorded.incident : null;
    if (prior) m.recorded = null;
    if (ep.incident === null && prior) ep.incident = prior;

    // The identical-failure guard counts every failure, including ones no rule knows, once: an
    // episode that continues an unresolved incident was counted with it. A recovered exit was
    // counted by the killed predecessor only if state.json got that far (the count is in memory
    // from before its incident is written until the next coalesced write), which the streak's
    // generation says; whether the predecessor wrote the incident does not.
    // A reused incident is the failure the predecessor saw (its traceback): this monitor may have
    // read only what came after it (the exit), which is no signature of the failure.
    const sig = m.red(failureSignature(prior ? recordedFailure(prior, primary) : primary));
    const recovered = m.recovering === ep.generation;
    if (recovered) m.recovering = null;
    const counted = recovered ? s.identical.generation === ep.generation : ep.incident !== null;
    if (!counted) {
      if (s.identical.signature === sig) s.identical.count++;
      else s.identical = { signature: sig, count: 1 };
      s.identical.generation = ep.generation;
    }
    const cap = m.policy.max_identical_failures;
    const identicalTripped = cap > 0 && s.identical.count > cap;

    let incident = ep.incident;
    /** The outcome note written with the folder (issue 13: known before it), or null. */
    let written: string | null = null;
    if (!incident) {
      // With the child dead and nobody to act on the failure, the outcome is written with the
      // folder: one write of incident.json and report.md per crash cycle instead of two.
      const foreseen = alive || identicalTripped ? null : m.parts.healing.foresee(primary, ep.detections);
      const note = foreseen ? (foreseen.note ?? POLICY_NOTE) : null;
      await testHold("before-incident", ep.generation);
      try {
        incident = await this.createIncident(primary, ep.detections, note);
        written = note;
        m.deps.writeGate?.ok("an incident folder");
      } catch (err) {
        m.writeFailed("an incident folder", err, `Cannot write the incident folder: ${errMsg(err)}`);
      }
      if (incident) {
        s.last_incident_id = incident.id;
        m.deps.journal.write("incident", {
          incident_id: incident.id,
          detector: primary.detector,
          kind: primary.kind,
          message: primary.message,
        });
        m.log.info(`incident ${incident.id} written`);
        if (primary.kind === "anomaly") {
          pushCapped(s.anomalies, {
            time: new Date().toISOString(),
            detector: primary.detector,
            message: m.red(primary.message),
            incident_id: incident.id,
          });
        }
        if (m.cfg.monitor.log_excerpt_after_lines > 0 && alive) {
          m.after.start({
            incidentId: incident.id,
            generation: ep.generation,
            remaining: m.cfg.monitor.log_excerpt_after_lines,
            lines: [],
            until: Date.now() + AFTER_LINES_MAX_WAIT_MS,
          });
        }
      }
      m.deps.state.changed();
      await testHold("after-incident", ep.generation);
    }

    if (identicalTripped) {
      const reason = `Identical failure limit exceeded (${s.identical.count}, cap ${cap}): ${primary.message.slice(0, 200)}`;
      m.deps.journal.write("repeat_failure_limit", { count: s.identical.count, cap, signature: sig });
      await m.record(incident, { outcome: null, note: reason });
      m.notify({
        kind: "exit",
        title: `repeated failure: ${primary.message.slice(0, 100)}`,
        body: reason,
        incident_id: incident?.id ?? null,
      });
      await m.finish(m.exitCodeForGiveUp(), reason, "gave_up");
      return;
    }

    const { outcome, note } = await m.parts.healing.decide(incident, primary, ep.detections);

    const stillAlive = m.childAlive && m.gen === ep.generation;
    if (!outcome) {
      if (stillAlive) {
        const n = note ?? "No rule matched; the child is still running, so nothing was applied";
        await m.record(incident, { outcome: null, note: n });
        if (incident) m.unresolved = { generation: ep.generation, detections: ep.detections, incident };
        m.notifyIncident(primary, null, incident, "(no action applied)");
        return;
      }
      // The folder is complete; its outcome note is in it already when it was known before it
      // was written (the common case), else it is written while the restart proceeds.
      const n = note ?? POLICY_NOTE;
      if (n !== written) m.recordInBackground(incident, { outcome: null, note: n });
      m.notifyIncident(primary, null, incident, "(no action applied; restart policy)");
      await m.parts.actions.fallback(incident);
      return;
    }
    await m.parts.actions.apply(outcome, incident, primary, ep.generation);
  }

  /** A traceback logged by a job that then finished with code 0: keep the evidence, apply nothing. */
  async recordCompleted(ep: Episode): Promise<void> {
    const m = this.m;
    if (ep.incident) return;
    try {
      const incident = await this.createIncident(primaryDetection(ep.detections), ep.detections);
      await m.deps.store.recordOutcome(incident.id, {
        outcome: null,
        note: "The child completed successfully afterwards; nothing was applied",
      });
    } catch (err) {
      m.writeFailed("an incident folder", err, `Cannot write the incident folder: ${errMsg(err)}`);
    }
  }

  /**
   * Write the incident folder of a failure (throws when it cannot); with `outcomeNote`, its outcome
   * is known already: nothing applied, for that reason.
   */
  private async createIncident(
    primary: Detection,
    related: Detection[],
    outcomeNote: string | null = null,
  ): Promise<IncidentRef> {
    const m = this.m;
    const s = m.s;
    const resume = await m.parts.signals.resumePoint();
    // primaryDetection may return a copy (a borrowed trace) that shares the original's meta
    const from = related.find((d) => d === primary || d.meta === primary.meta);
    const cut = from ? this.cuts.get(from) : undefined;
    return m.deps.store.create({
      detection: primary,
      related,
      logExcerpt: cut ? cut.before : m.excerpt.toArray(),
      afterFailure: cut ? m.excerpt.since(cut.seq) : [],
      // copied by the store before it awaits anything (a copy here cost ~1 ms per incident)
      state: s,
      process: {
        kind: m.cfg.process.kind,
        argv: m.cfg.process.command,
        cwd: m.cfg.process.cwd,
        pid: s.pid,
      },
      restarts: s.restarts,
      maxRestarts: m.policy.max_restarts,
      configSnapshots: m.cfg.config_snapshots,
      resume,
      ...(outcomeNote !== null ? { outcomeNote } : {}),
    });
  }
}
