/**
 * @module
 * The vault (inventory §4.16): Obsidian-compatible notes of runs, child runs, incidents, fix
 * attempts, detectors and patterns, derived from the monitor's journal. The writer listens to the
 * journal ({@link VaultWriter.onRecord}) and reads the incident folder for details, so the monitor
 * knows nothing about it.
 *
 * Layout under `vault.path` (every link is a path from the vault root without `.md`, and every
 * link target is a note the writer has written: inventory §6 item 35):
 * - `index.md`: links to every run, detector and pattern note;
 * - `runs/<run_id>.md`, `runs/<run_id>/child-<generation>.md` (`<stage>-child-<n>` in a pipeline);
 * - `incidents/<id>.md`, `incidents/<id>/attempt-<n>.md`;
 * - `detectors/<name>.md`;
 * - `patterns/pattern-<detector>-<keywords>-<fingerprint prefix>.md`: a failure (one fingerprint,
 *   see src/incidents/fingerprint.ts) recorded `pattern_threshold` times or more.
 *
 * Best-effort: a failure is logged and never thrown; the monitor goes on. Notes are replaced
 * atomically (temporary file + rename, no fsync: they can be derived again), edited in place by
 * section so that text a person adds survives, and pass through the redactor before they are
 * written. Runs synchronously inside the journal write, so a monitor that exits right after an
 * event still leaves the note behind.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { IndexCache, type SameEntry } from "../incidents/index-cache.ts";
import type { IncidentRecord } from "../incidents/record.ts";
import type { JournalRecord } from "../journal/journal.ts";
import type { Logger } from "../util/logger.ts";
import {
  appendToSection,
  appendToSectionCapped,
  type FrontValue,
  parseFront,
  renderNote,
  replaceSection,
  setFront,
  wikilink,
} from "./note.ts";

export interface VaultWriterOptions {
  /** `vault.path`, absolute. */
  root: string;
  /** `incidents_dir`, absolute: incident.json and report.md are read from here. */
  incidentsDir: string;
  /** Incidents of one fingerprint needed for a pattern note (`vault.pattern_threshold`). */
  patternThreshold: number;
  /** Applied to every note before it is written. */
  redact: (text: string) => string;
  logger: Logger;
  /** The supervised process, for the run note. */
  process: { kind: string; cwd: string };
  /** The in-memory copy of index.jsonl, shared with the incident store; default: its own. */
  index?: IndexCache;
}

/** File-name-safe text: runs outside `[A-Za-z0-9._-]` become `-`; at most `max` characters. */
export function noteSlug(text: string, max = 80): string {
  const s = text
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+/, "")
    .slice(0, max)
    .replace(/[-.]+$/, "");
  return s === "" ? "x" : s;
}

/** Up to four lower-case words of 3+ letters from an exception type or message. */
function keywords(text: string): string[] {
  const words = (text.toLowerCase().match(/[a-z]{3,}/g) ?? []).filter(
    (w) => !["the", "and", "for", "with", "from", "error", "exception"].includes(w),
  );
  return [...new Set(words)].slice(0, 4);
}

/** The pattern note's path (without `.md`) for a group of incidents, named after its first one. */
export function patternTarget(first: SameEntry, fingerprint: string): string {
  const words = keywords(first.exception_type ?? first.message);
  return `patterns/pattern-${noteSlug([first.detector, ...words].join("-"), 60)}-${fingerprint.slice(0, 6)}`;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Markdown inline code that survives backticks. */
function code(text: string): string {
  const run = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(run + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/** Earlier incidents of the same failure an incident note links to (older ones are counted). */
const SAME_FAILURE_LINKS = 10;

/** Items a growing list in a run, detector or pattern note keeps (older ones are counted). */
const LIST_CAP = 50;

type SameGroup = ReturnType<IndexCache["same"]>;

export class VaultWriter {
  private readonly index: IndexCache;
  private readonly root: string;
  private readonly opts: VaultWriterOptions;
  private failures = 0;

  constructor(opts: VaultWriterOptions) {
    this.opts = opts;
    this.root = path.resolve(opts.root);
    this.index = opts.index ?? new IndexCache(path.join(opts.incidentsDir, "index.jsonl"));
  }

  /** Failed updates so far (each was logged). */
  get errors(): number {
    return this.failures;
  }

  /** Update the notes for one journal record. Never throws. */
  onRecord(rec: JournalRecord): void {
    try {
      this.handle(rec);
    } catch (err) {
      this.failures++;
      this.opts.logger.warn(`vault: cannot record ${rec.event}: ${(err as Error).message}`);
    }
  }

  private handle(rec: JournalRecord): void {
    switch (rec.event) {
      case "monitor_started":
      case "pipeline_started":
        this.ensureRun(rec);
        if (rec.continuing === true) {
          this.editNote(this.runTarget(rec), (t) =>
            appendToSection(t, "Monitor", `- ${rec.time}: a new monitor took over the run`, false),
          );
        }
        return;
      case "child_started":
      case "child_adopted":
        this.childStarted(rec);
        return;
      case "child_exited":
        this.childExited(rec);
        return;
      case "incident":
        this.incident(rec);
        return;
      case "recovery_started":
        this.attemptStarted(rec);
        return;
      case "recovery_applied":
      case "recovery_failed":
      case "recovery_verified":
      case "recovery_regressed":
      case "fix_kept":
      case "fix_reverted":
        this.attemptChanged(rec);
        return;
      case "monitor_stopped":
        this.runStopped(rec);
        return;
      default:
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // runs and child runs

  private runTarget(rec: JournalRecord): string {
    return `runs/${noteSlug(rec.run_id || "unknown-run")}`;
  }

  private childTarget(rec: JournalRecord, generation: number): string {
    const prefix = rec.stage ? `${noteSlug(rec.stage, 40)}-` : "";
    return `${this.runTarget(rec)}/${prefix}child-${generation}`;
  }

  private ensureRun(rec: JournalRecord): string {
    const target = this.runTarget(rec);
    if (!this.exists(target)) {
      const command = Array.isArray(rec.command) ? (rec.command as unknown[]).map(str) : [];
      this.writeNote(
        target,
        renderNote({
          front: {
            id: rec.run_id,
            kind: "run",
            created: rec.time,
            updated: rec.time,
            tags: ["autosentry", "run"],
            status: "running",
            supervisor: this.opts.process.kind,
            command: command.join(" "),
            cwd: this.opts.process.cwd,
            ...(rec.stage ? { stage: rec.stage } : {}),
          },
          title: `Run ${rec.run_id}`,
          body: [
            `**Supervisor:** ${this.opts.process.kind}  `,
            `**Command:** ${command.length > 0 ? code(command.join(" ")) : "*(unknown)*"}  `,
            `**Working directory:** ${code(this.opts.process.cwd)}  `,
            `**Started:** ${rec.time}`,
          ],
          sections: [
            { heading: "Narrative", lines: [] },
            { heading: "Child runs", lines: [] },
            { heading: "Incidents", lines: [] },
            { heading: "Outcome", lines: [] },
          ],
        }),
      );
      this.addToIndex("Runs", `- ${wikilink(target, `Run ${rec.run_id}`)} — started ${rec.time}`);
    }
    return target;
  }

  private childStarted(rec: JournalRecord): void {
    const run = this.ensureRun(rec);
    const generation = Number(rec.generation);
    const target = this.childTarget(rec, generation);
    const adopted = rec.event === "child_adopted";
    const reason = adopted ? "re-adopted by a new monitor" : str(rec.why) || "started";
    // A re-adopted child (or a repeated line) already has its note and its bullet in the run.
    if (this.exists(target)) return;
    this.writeNote(
      target,
      renderNote({
        front: {
          id: `${rec.run_id}/child-${generation}`,
          kind: "child-run",
          created: rec.time,
          updated: rec.time,
          tags: ["autosentry", "child-run"],
          generation,
          pid: typeof rec.pid === "number" ? rec.pid : null,
          reason,
          run: rec.run_id,
          started: rec.time,
        },
        title: `Child ${generation} of run ${rec.run_id}`,
        body: [
          `**Run:** ${wikilink(run, `Run ${rec.run_id}`)}  `,
          `**PID:** ${typeof rec.pid === "number" ? rec.pid : "—"}  `,
          `**Why:** ${oneLine(reason)}  `,
          `**Started:** ${rec.time}`,
        ],
        sections: [
          { heading: "Incidents during this child run", lines: [] },
          { heading: "Exit", lines: [] },
        ],
      }),
    );
    this.editNote(run, (t) =>
      setFront(
        appendToSectionCapped(
          t,
          "Child runs",
          `- ${wikilink(target, `child ${generation}`)} — ${rec.time} — ${oneLine(reason)}`,
          LIST_CAP,
          "child run(s)",
        ),
        { updated: rec.time },
      ),
    );
  }

  private childExited(rec: JournalRecord): void {
    const target = this.childTarget(rec, Number(rec.generation));
    if (!this.exists(target)) return;
    const code = rec.exit_code === null || rec.exit_code === undefined ? null : Number(rec.exit_code);
    const what = [
      str(rec.exit_class) || "exited",
      code !== null ? `exit code ${code}` : "",
      rec.signal ? `signal ${str(rec.signal)}` : "",
    ].filter(Boolean);
    this.editNote(target, (t) =>
      setFront(replaceSection(t, "Exit", [`${rec.time}: ${what.join(", ")}`]), {
        updated: rec.time,
        ended: rec.time,
        exit_code: code,
        exit_class: str(rec.exit_class) || null,
      }),
    );
  }

  private runStopped(rec: JournalRecord): void {
    const target = this.ensureRun(rec);
    const reason = str(rec.reason);
    this.editNote(target, (t) =>
      setFront(
        appendToSection(
          t,
          "Outcome",
          `- ${rec.time}: ${str(rec.phase) || "stopped"} — ${oneLine(reason)} (exit ${str(rec.exit_code)}, restarts ${str(rec.restarts_total)} in total)`,
          false,
        ),
        {
          updated: rec.time,
          status: str(rec.phase) || "stopped",
          ended: rec.time,
          exit_code: typeof rec.exit_code === "number" ? rec.exit_code : null,
          stop_reason: reason,
        },
      ),
    );
  }

  // -------------------------------------------------------------------------------------------
  // incidents, detectors, patterns

  private readIncident(id: string): IncidentRecord | null {
    if (!/^[A-Za-z0-9._:-]+$/.test(id) || id === "." || id === "..") return null;
    try {
      return JSON.parse(
        fs.readFileSync(path.join(this.opts.incidentsDir, id, "incident.json"), "utf8"),
      ) as IncidentRecord;
    } catch {
      return null;
    }
  }

  private incidentTarget(id: string): string {
    return `incidents/${noteSlug(id, 200)}`;
  }

  private detectorTarget(name: string): string {
    return `detectors/${noteSlug(name, 100)}`;
  }

  private incident(rec: JournalRecord): void {
    const id = str(rec.incident_id);
    if (id === "") return;
    const inc = this.readIncident(id);
    const run = this.ensureRun(rec);
    const detector = inc?.detector ?? str(rec.detector);
    const generation = inc?.generation ?? null;
    const child = generation !== null ? this.childTarget(rec, generation) : null;
    const childLink = child !== null && this.exists(child) ? wikilink(child, `child ${generation}`) : null;
    const detectorNote = this.ensureDetector(detector, rec.time);
    const target = this.incidentTarget(id);
    const message = inc?.message ?? str(rec.message);
    const fp = inc?.fingerprint ?? null;
    const report = path.join(this.opts.incidentsDir, id, "report.md");
    const reportLink = path
      .relative(path.dirname(this.file(target)), report)
      .split(path.sep)
      .map(encodeURIComponent)
      .join("/");

    const group = fp === null ? null : this.group(fp);
    // The newest few only: listing every earlier one made each note as long as the history (3,000
    // crash cycles wrote 600 MB of notes, 400 KB each; issue 16).
    const newest = group?.newest(SAME_FAILURE_LINKS + 1) ?? [];
    const candidates = newest.filter((e) => e.id !== id);
    const earlier = candidates
      .slice(-SAME_FAILURE_LINKS)
      .filter((e) => this.exists(this.incidentTarget(e.id)));
    const unlisted = (group?.count ?? 0) - (newest.length - candidates.length) - earlier.length;
    if (!this.exists(target)) {
      this.writeNote(
        target,
        renderNote({
          front: {
            id,
            kind: "incident",
            created: rec.time,
            updated: rec.time,
            tags: ["autosentry", "incident", `detector/${noteSlug(detector, 60)}`],
            detector,
            exception_type: inc?.exception_type ?? null,
            fingerprint: fp,
            fired_at: inc?.time ?? rec.time,
            generation,
            incident_kind: inc?.kind ?? str(rec.kind),
            run: rec.run_id,
          },
          title: `Incident ${id}`,
          body: [
            `**Message:** ${code(oneLine(message, 300))}  `,
            `**Run:** ${wikilink(run, `Run ${rec.run_id}`)}${childLink ? ` · ${childLink}` : ""}  `,
            `**Detector:** ${wikilink(detectorNote, detector)}  `,
            `**Fingerprint:** ${fp ? code(fp) : "—"} (seen ${inc?.seen_before?.count ?? 0} time(s) before)  `,
            `**Report:** [report.md](${reportLink})`,
          ],
          sections: [
            { heading: "Narrative", lines: [] },
            { heading: "Attempts", lines: [] },
            {
              heading: "Same failure",
              lines: [
                ...(unlisted > 0
                  ? [
                      `- ${unlisted} earlier incident(s) not listed here (see the pattern note and incidents/index.jsonl)`,
                    ]
                  : []),
                ...earlier.map((e) => `- ${wikilink(this.incidentTarget(e.id), e.id)} — ${e.time}`),
              ],
            },
          ],
        }),
      );
    }
    const bullet = `- ${wikilink(target, id)} — ${oneLine(message, 120)}`;
    this.editNote(run, (t) =>
      setFront(appendToSectionCapped(t, "Incidents", bullet, LIST_CAP, "incident(s)"), { updated: rec.time }),
    );
    if (child !== null && this.exists(child)) {
      this.editNote(child, (t) =>
        setFront(appendToSection(t, "Incidents during this child run", bullet), { updated: rec.time }),
      );
    }
    this.editNote(detectorNote, (t) =>
      setFront(appendToSectionCapped(t, "Incidents", bullet, LIST_CAP, "incident(s)"), { updated: rec.time }),
    );
    if (fp !== null && group !== null) this.pattern(fp, group, detectorNote, rec.time);
  }

  /**
   * The incidents with fingerprint `fp` (from an in-memory copy of index.jsonl that reads only
   * what was appended since: reading the whole index per incident grew with the history).
   */
  private group(fp: string): SameGroup | null {
    try {
      return this.index.same(fp);
    } catch (err) {
      this.opts.logger.warn(`vault: cannot read the incident index: ${(err as Error).message}`);
      return null;
    }
  }

  private ensureDetector(name: string, time: string): string {
    const target = this.detectorTarget(name);
    if (!this.exists(target)) {
      this.writeNote(
        target,
        renderNote({
          front: {
            id: `detector-${name}`,
            kind: "detector",
            created: time,
            updated: time,
            tags: ["autosentry", "detector"],
            name,
          },
          title: `Detector ${name}`,
          body: [],
          sections: [
            { heading: "Patterns", lines: [] },
            { heading: "Incidents", lines: [] },
          ],
        }),
      );
      this.addToIndex("Detectors", `- ${wikilink(target, name)}`);
    }
    return target;
  }

  /** Create or extend the pattern note of `fp` once the group reaches the threshold. */
  private pattern(fp: string, group: SameGroup, detectorNote: string, time: string): void {
    const first = group.first;
    if (first === null || group.count < Math.max(1, this.opts.patternThreshold)) return;
    const target = patternTarget(first, fp);
    const line = (e: SameEntry) => `- ${wikilink(this.incidentTarget(e.id), e.id)} — ${e.time}`;
    if (!this.exists(target)) {
      // The newest LIST_CAP (the list keeps no more later on either); older ones are counted.
      const kept = group.newest(LIST_CAP);
      const linked = kept.filter((e) => this.exists(this.incidentTarget(e.id)));
      const older = kept.length - linked.length;
      const unlisted = group.count - kept.length;
      this.writeNote(
        target,
        renderNote({
          front: {
            id: target.slice("patterns/".length),
            kind: "pattern",
            created: time,
            updated: time,
            tags: ["autosentry", "pattern", `detector/${noteSlug(first.detector, 60)}`],
            detector: first.detector,
            fingerprint: fp,
            incident_count: group.count,
            representative_message: oneLine(first.message, 300),
          },
          title: `Pattern: ${oneLine(first.exception_type ?? first.message, 100)}`,
          body: [
            `**Detector:** ${wikilink(detectorNote, first.detector)}  `,
            `**Fingerprint:** ${code(fp)}  `,
            `**Representative message:** ${code(oneLine(first.message, 300))}`,
          ],
          sections: [
            { heading: "Narrative", lines: [] },
            {
              heading: "Linked incidents",
              lines: [
                ...(unlisted > 0
                  ? [
                      `- ${unlisted} earlier incident(s) not listed here (the journal and incidents/index.jsonl keep every one)`,
                    ]
                  : []),
                ...(older > 0
                  ? [`- ${older} earlier incident(s) recorded before the vault had notes for them`]
                  : []),
                ...linked.map(line),
              ],
            },
          ],
        }),
      );
      this.editNote(detectorNote, (t) =>
        appendToSection(
          t,
          "Patterns",
          `- ${wikilink(target, oneLine(first.exception_type ?? first.message, 80))}`,
        ),
      );
      this.addToIndex(
        "Patterns",
        `- ${wikilink(target, oneLine(first.exception_type ?? first.message, 80))}`,
      );
      for (const e of linked) {
        this.editNote(this.incidentTarget(e.id), (t) =>
          appendToSection(t, "Same failure", `- Pattern: ${wikilink(target, "pattern note")}`),
        );
      }
      return;
    }
    // Only the newest is added: checking every linked note per incident grew with the history.
    const newest = group.newest(1).find((e) => this.exists(this.incidentTarget(e.id)));
    this.editNote(target, (t) => {
      let out = setFront(t, { updated: time, incident_count: group.count });
      if (newest) out = appendToSectionCapped(out, "Linked incidents", line(newest), LIST_CAP, "incident(s)");
      return out;
    });
    if (newest) {
      this.editNote(this.incidentTarget(newest.id), (t) =>
        appendToSection(t, "Same failure", `- Pattern: ${wikilink(target, "pattern note")}`),
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // attempts

  private attemptTargets(incidentId: string): string[] {
    const dir = this.file(this.incidentTarget(incidentId)).replace(/\.md$/, "");
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir).filter((n) => /^attempt-\d+\.md$/.test(n));
    } catch {
      return [];
    }
    return names
      .map((n) => Number(n.slice(8, -3)))
      .sort((a, b) => a - b)
      .map((n) => `${this.incidentTarget(incidentId)}/attempt-${n}`);
  }

  private attemptStarted(rec: JournalRecord): void {
    const id = str(rec.incident_id);
    if (id === "" || !this.exists(this.incidentTarget(id))) return;
    const n = this.attemptTargets(id).length + 1;
    const target = `${this.incidentTarget(id)}/attempt-${n}`;
    const source = str(rec.source);
    const rule = rec.rule === null || rec.rule === undefined ? null : str(rec.rule);
    this.writeNote(
      target,
      renderNote({
        front: {
          id: `${id}/attempt-${n}`,
          kind: "attempt",
          created: rec.time,
          updated: rec.time,
          tags: ["autosentry", "attempt"],
          action: str(rec.action),
          incident: id,
          rule,
          source,
          started: rec.time,
          status: "started",
        },
        title: `Attempt ${n} for incident ${id}`,
        body: [
          `**Incident:** ${wikilink(this.incidentTarget(id), id)}  `,
          `**Source:** ${source}${rule ? ` (rule ${code(rule)})` : ""}  `,
          `**Action:** ${code(str(rec.action))}  `,
          `**Started:** ${rec.time}`,
        ],
        sections: [
          { heading: "Applied", lines: [] },
          { heading: "Outcome", lines: [] },
        ],
      }),
    );
    this.editNote(this.incidentTarget(id), (t) =>
      setFront(
        appendToSection(
          t,
          "Attempts",
          `- ${wikilink(target, `attempt ${n}`)} — ${source}${rule ? ` ${rule}` : ""} → ${str(rec.action)}`,
        ),
        { updated: rec.time },
      ),
    );
  }

  private attemptChanged(rec: JournalRecord): void {
    const id = str(rec.incident_id);
    if (id === "") return;
    const target = this.attemptTargets(id).pop();
    if (target === undefined) return;
    if (rec.event === "recovery_applied") {
      const outcome = this.readIncident(id)?.outcome ?? null;
      const env = outcome?.resolved_env ?? {};
      const envText = Object.entries(env)
        .map(([k, v]) => code(`${k}=${v}`))
        .join(", ");
      const lines = [`- ${rec.time}: applied ${code(str(rec.action))}`];
      if (envText) lines.push(`- Env overrides: ${envText}`);
      if (outcome?.command) lines.push(`- Command exit code: ${outcome.command.exit_code ?? "none"}`);
      if (outcome?.note) lines.push(`- Note: ${oneLine(outcome.note)}`);
      const front: Record<string, FrontValue> = {
        updated: rec.time,
        status: "applied",
        action: str(rec.action),
      };
      if (envText) front.env_overrides = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      this.editNote(target, (t) => setFront(replaceSection(t, "Applied", lines), front));
      return;
    }
    const status =
      rec.event === "recovery_verified"
        ? "verified"
        : rec.event === "recovery_regressed"
          ? "regressed"
          : rec.event === "recovery_failed"
            ? "failed"
            : rec.event === "fix_kept"
              ? "kept"
              : "reverted";
    const detail = str(rec.why) || str(rec.result) || str(rec.error);
    const line = `- ${rec.time}: ${status}${detail ? ` — ${oneLine(detail)}` : ""}`;
    this.editNote(target, (t) => {
      const front = parseFront(t);
      const keepStatus =
        (rec.event === "fix_kept" || rec.event === "fix_reverted") && front.status === "regressed";
      return setFront(appendToSection(t, "Outcome", line, false), {
        updated: rec.time,
        ...(keepStatus ? {} : { status }),
        resolved: rec.time,
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // files

  private file(target: string): string {
    return path.join(this.root, `${target}.md`);
  }

  private exists(target: string): boolean {
    return fs.existsSync(this.file(target));
  }

  private addToIndex(section: "Runs" | "Detectors" | "Patterns", line: string): void {
    if (!this.exists("index")) {
      this.writeNote(
        "index",
        renderNote({
          front: {
            id: "index",
            kind: "index",
            created: new Date().toISOString(),
            updated: new Date().toISOString(),
            tags: ["autosentry"],
          },
          title: "autosentry vault",
          body: [
            "Notes derived from autosentry's journal and incident folders. Text you add under a heading is kept when the notes are updated.",
          ],
          sections: [
            { heading: "Runs", lines: [] },
            { heading: "Detectors", lines: [] },
            { heading: "Patterns", lines: [] },
          ],
        }),
      );
    }
    this.editNote("index", (t) => appendToSection(t, section, line));
  }

  private editNote(target: string, edit: (text: string) => string): void {
    const text = fs.readFileSync(this.file(target), "utf8");
    const next = edit(text);
    if (next !== text) this.writeNote(target, next);
  }

  /** Replace the note atomically (temporary file in the same directory, then rename). */
  private writeNote(target: string, text: string): void {
    const file = this.file(target);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
    fs.writeFileSync(tmp, this.opts.redact(text));
    try {
      fs.renameSync(tmp, file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }
}
