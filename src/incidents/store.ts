/**
 * @module
 * The file-system incident store (inventory §4.9): one folder per incident under `incidents_dir`,
 * written before any healer runs, completed when the outcome is known, and one line per change in
 * `index.jsonl`.
 *
 * Everything written passes through the redactor first: trace, log excerpt, frames, config copies,
 * state, detections, the outcome files, the report and the index line (inventory §6 item 29).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncDirectory, replaceFileSync, writeFileAtomic } from "../util/atomic-write.ts";
import { appendJsonl } from "../util/jsonl.ts";
import type { Logger } from "../util/logger.ts";
import { appendNoFollow, mkdirNoFollow } from "../util/safe-open.ts";
import { fingerprint } from "./fingerprint.ts";
import { type FrameRenderer, listFrames, NO_FRAMES, type RenderedFrames } from "./frames-section.ts";
import { IndexCache, type SameEntry } from "./index-cache.ts";
import { shellJoin } from "./markdown.ts";
import { isValidIncidentId, resolveIncidentDir } from "./paths.ts";
import { redactHeadlessPem } from "./pem-guard.ts";
import { indexPath, newestEntries, readIndex } from "./read.ts";
import {
  type ConfigSnapshotNote,
  type EarlierIncident,
  type IncidentRecord,
  REPORT_TAIL_LINES,
  type SeenBefore,
  seriesOf,
  summarizeDetection,
  summarizeOutcome,
} from "./record.ts";
import { type Redact, redactJson } from "./redact-value.ts";
import { renderReport } from "./report.ts";
import { baseIncidentId, slugify, withCollisionSuffix } from "./slug.ts";
import type { AppliedOutcome, IncidentRef, IncidentStore, IndexEntry, NewIncident } from "./types.ts";

/** Separates the log lines from the detector's own context in log_excerpt.txt. */
export const DETECTOR_CONTEXT_MARKER = "--- detector context ---";
/** Precedes the lines that arrived after the failure in log_excerpt.txt (written once). */
export const AFTER_FAILURE_MARKER = "--- after the failure ---";
/** A config snapshot is cut at this size: a huge file listed by mistake must not fill the disk. */
export const MAX_CONFIG_SNAPSHOT_BYTES = 1024 * 1024;
/** Same-second folders get `-0001` … up to this suffix. */
const MAX_COLLISIONS = 9999;
/** report.md links the first earlier incident of the same failure and this many of the newest. */
export const EARLIER_LINKS = 10;

export interface FsIncidentStoreOptions {
  /** `incidents_dir`, absolute. */
  dir: string;
  logger: Logger;
  /** Applied to every text written (default: identity). */
  redact?: Redact;
  /**
   * Applied to every JSON value written (a redactor's `redactJson`, which knows secret keys and
   * argv flags). Default: `redact` on each string and key, see redact-value.ts.
   */
  redactJson?: (value: unknown) => unknown;
  /** Frames rendered per incident, innermost first (`source_explode.max_frames`, default 20). */
  maxFrames?: number;
  /**
   * The frame renderer (default: {@link listFrames}, no source); the composition root plugs the
   * source renderer (src/frames) in here when `source_explode.enabled`. When it throws, the
   * incident gets the listing instead and the error is logged.
   */
  renderFrames?: FrameRenderer;
  /** `process.env` of the config: shown in report.md with the overlay from state.json's `env_overlay`. */
  processEnv?: Record<string, string>;
  /** Clock, epoch ms (tests pin it to provoke same-second folders). */
  now?: () => number;
  /** The in-memory copy of index.jsonl, shared with other readers (the vault); default: its own. */
  index?: IndexCache;
  /**
   * When given, files are written (temporary file, rename) without fsync and handed to it to be
   * made durable a moment later (src/util/deferred-sync.ts): a folder is complete and visible as
   * soon as create() returns, and survives a crash of the monitor; the monitor makes it durable
   * right after it issued the restart (issue 13, docs/reliability.md "Durability"). Without it
   * every file and directory is fsynced before create() returns.
   */
  durability?: { add(file: string): void };
}

/** Pretty JSON with a trailing newline. */
function pretty(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A JSON-safe deep copy: drops functions, turns Dates into strings; a cycle becomes a note. */
function plain(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null)) as unknown;
  } catch (err) {
    return { error: `state could not be serialised: ${(err as Error).message}` };
  }
}

function lines(text: string[]): string {
  return text.length === 0 ? "" : `${text.join("\n")}\n`;
}

/**
 * The name of a config copy under `configs/`: its base name, or when that is taken, the name with
 * its parent directories joined by `__` (`configs__train.yaml`), or at last a numeric suffix.
 */
export function snapshotName(source: string, taken: Set<string>): string {
  const parts = path
    .resolve(source)
    .split(/[\\/]+/)
    .filter((p) => p !== "")
    .map((p) => slugify(p, 60, "_"));
  if (parts.length === 0) parts.push("config");
  for (let k = 1; k <= parts.length; k++) {
    const name = parts.slice(-k).join("__");
    if (!taken.has(name)) return name;
  }
  const base = parts.join("__");
  for (let n = 2; ; n++) {
    const name = `${base}.${n}`;
    if (!taken.has(name)) return name;
  }
}

/** Read at most `max` bytes of a regular file; null + why when it cannot be copied. */
function readSnapshot(file: string, max: number): { text: string; cut: boolean } | { error: string } {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: code === "ENOENT" ? "missing at incident time" : `unreadable: ${code ?? String(err)}` };
  }
  if (!st.isFile()) return { error: "not a regular file" };
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(Math.min(st.size, max));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return { text: buf.subarray(0, n).toString("utf8"), cut: st.size > max };
  } catch (err) {
    return { error: `unreadable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** state.json's `env_overlay` (values set by restart_with_env), when the state has one. */
function envOverlayOf(state: unknown): Record<string, string> {
  const overlay = (state as { env_overlay?: unknown } | null)?.env_overlay;
  if (overlay === null || typeof overlay !== "object" || Array.isArray(overlay)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(overlay))
    if (typeof v === "string" || typeof v === "number") out[k] = String(v);
  return out;
}

/** {@link IncidentStore} on the local file system. */
export class FsIncidentStore implements IncidentStore {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly redact: Redact;
  private readonly redactValue: <T>(value: T) => T;
  /** {@link redactValue} for a value that is JSON-safe already (a {@link plain} copy). */
  private readonly redactPlain: (value: unknown) => unknown;
  private readonly maxFrames: number;
  private readonly render: FrameRenderer;
  private readonly processEnv: Record<string, string>;
  private readonly now: () => number;
  /** Incidents whose log_excerpt.txt already has the after-the-failure marker. */
  private readonly afterMarked = new Set<string>();
  /** Per-incident queue: outcome and after-lines writes of one incident never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Folders being created: their directory entries are fsynced once at the end of create(). */
  private readonly creating = new Set<string>();
  /** index.jsonl as far as seenBefore needs it, read incrementally. */
  private readonly index: IndexCache;
  private readonly durability: { add(file: string): void } | undefined;
  /** The running {@link completeInterrupted} (lookups wait for it: it adds index lines). */
  private completing: Promise<unknown> = Promise.resolve();

  constructor(opts: FsIncidentStoreOptions) {
    this.dir = path.resolve(opts.dir);
    this.logger = opts.logger;
    const redact = opts.redact ?? ((t: string) => t);
    this.redact = redact;
    const custom = opts.redactJson;
    this.redactPlain = custom ? (v) => custom(v) : (v) => redactJson(v, redact);
    this.redactValue = <T>(v: T) => this.redactPlain(plain(v)) as T;
    this.maxFrames = opts.maxFrames ?? 20;
    this.render = opts.renderFrames ?? listFrames;
    this.processEnv = { ...(opts.processEnv ?? {}) };
    this.now = opts.now ?? Date.now;
    this.index = opts.index ?? new IndexCache(indexPath(this.dir));
    this.durability = opts.durability;
  }

  async create(input: NewIncident): Promise<IncidentRef> {
    // The state as it is now, before the first await (the caller need not copy it).
    const state = plain(input.state);
    const det = input.detection;
    const at = this.now();
    const fp = fingerprint(det);
    // Read before this incident's own index line exists.
    const seen = this.seenBefore(fp);
    const { id, dir } = await this.claimFolder(baseIncidentId(at, det.kind, det.detector));
    this.creating.add(dir);

    // The files are independent: written side by side, their fsyncs overlap (a restart waits for
    // this folder, so its latency is the slowest write rather than the sum of them).
    const [, , frames, configs] = await Promise.all([
      det.trace ? this.writeText(dir, "trace.txt", lines([det.trace.text])) : undefined,
      this.writeText(
        dir,
        "log_excerpt.txt",
        redactHeadlessPem(lines([...input.logExcerpt, DETECTOR_CONTEXT_MARKER, ...det.context])),
      ),
      this.writeFrames(dir, det.trace, input.process.cwd),
      this.copyConfigs(dir, input.configSnapshots),
      this.writeFile(dir, "state.json", pretty(this.redactPlain(state))),
      fs.mkdirSync(path.join(dir, "fix")),
    ]);
    const related = input.related.includes(det) ? input.related : [det, ...input.related];
    await this.writeJson(dir, "detections.json", related.map(summarizeDetection));

    const record: IncidentRecord = this.redactValue({
      schema_version: 1,
      id,
      time: new Date(at).toISOString(),
      kind: det.kind,
      detector: det.detector,
      detector_kind: det.detectorKind,
      message: det.message,
      exception_type: det.exceptionType ?? null,
      fingerprint: fp,
      meta: { ...det.meta },
      generation: det.generation,
      process: {
        kind: input.process.kind,
        argv: [...input.process.argv],
        cwd: input.process.cwd,
        pid: input.process.pid,
      },
      restarts: input.restarts,
      max_restarts: input.maxRestarts,
      env: { configured: { ...this.processEnv }, overlay: envOverlayOf(state) },
      seen_before: seen,
      trace: det.trace ? (plain(det.trace) as IncidentRecord["trace"]) : null,
      frames: [],
      frames_section: "",
      related: related.map(summarizeDetection),
      configs,
      log_excerpt: { lines: input.logExcerpt.length, tail: this.excerptTail(input.logExcerpt) },
      outcome: null,
      // issue 11: the series the detections carried, and where the next run resumes
      ...(related.some((d) => d.series) ? { metrics: seriesOf(related) } : {}),
      ...(input.resume ? { resume: { ...input.resume } } : {}),
    } satisfies IncidentRecord);
    // Already redacted as text, and must not be offered to the redactor again with keys.
    record.frames = frames.files;
    record.frames_section = frames.section;
    await this.writeRecord(dir, record);
    // The files of a new folder are fsynced one by one; their directory entries once, here, before
    // the index line makes the incident visible (one directory fsync per folder, not one per file).
    for (const d of [dir, ...this.subdirs(dir)]) this.syncDir(d);
    // The folder's own entry (claimFolder's mkdir) is in incidents/.
    this.durability?.add(this.dir);
    this.creating.delete(dir);
    this.appendIndex(record);
    return { id, dir };
  }

  /**
   * Complete the folders a killed monitor left half-written (issue 16: a SIGKILL between claiming
   * the folder and appending the index line left a folder without incident.json, or one that
   * `incidents list` never showed). Called when a monitor starts, before anything else writes
   * here. A folder without incident.json gets one from what it holds (detections.json, the id),
   * marked as interrupted; report.md is rendered where missing; the index gets the missing lines.
   * Returns the ids completed.
   */
  completeInterrupted(): Promise<string[]> {
    const p = this.completeInterruptedNow();
    this.completing = p.catch(() => {});
    return p;
  }

  async findByGeneration(generation: number, sinceMs: number): Promise<IncidentRef | null> {
    await this.completing;
    // Times are whole milliseconds in ISO form; a second of slack for clocks read apart.
    const hit = readIndex(this.dir).find(
      (e) => e.generation === generation && Date.parse(e.time) >= sinceMs - 1000,
    );
    if (!hit) return null;
    const dir = resolveIncidentDir(this.dir, hit.id);
    return dir === null ? null : { id: hit.id, dir };
  }

  private async completeInterruptedNow(): Promise<string[]> {
    let names: string[];
    try {
      names = (await fs.promises.readdir(this.dir, { withFileTypes: true }))
        .filter((e) => e.isDirectory() && isValidIncidentId(e.name))
        .map((e) => e.name)
        .sort();
    } catch {
      return [];
    }
    const indexed = new Set(readIndex(this.dir).map((e) => e.id));
    const done: string[] = [];
    for (const id of names) {
      const dir = path.join(this.dir, id);
      const hasRecord = fs.existsSync(path.join(dir, "incident.json"));
      if (indexed.has(id) && hasRecord) continue;
      let record: IncidentRecord;
      try {
        record = hasRecord ? await this.readRecord(dir, id) : this.interruptedRecord(dir, id);
      } catch (err) {
        this.logger.warn(`Cannot complete the interrupted incident ${id}: ${(err as Error).message}`);
        continue;
      }
      try {
        if (!hasRecord) await this.writeRecord(dir, record);
        else if (!fs.existsSync(path.join(dir, "report.md")))
          await this.writeText(dir, "report.md", renderReport(record));
        if (!indexed.has(id)) this.appendIndex(record);
        done.push(id);
      } catch (err) {
        this.logger.warn(`Cannot complete the interrupted incident ${id}: ${(err as Error).message}`);
      }
    }
    if (done.length > 0)
      this.logger.warn(
        `Completed ${done.length} incident folder(s) a stopped monitor left half-written: ${done.join(", ")}`,
      );
    return done;
  }

  /** A record for a folder whose incident.json was never written, from what the folder holds. */
  private interruptedRecord(dir: string, id: string): IncidentRecord {
    let related: IncidentRecord["related"] = [];
    try {
      const v = JSON.parse(fs.readFileSync(path.join(dir, "detections.json"), "utf8")) as unknown;
      if (Array.isArray(v)) related = v as IncidentRecord["related"];
    } catch {
      // not written yet either
    }
    const first = related[0];
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z/.exec(id);
    const time =
      first?.at ?? (m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}.000Z` : new Date(this.now()).toISOString());
    const note = "(the monitor stopped while writing this incident; completed from what the folder held)";
    return {
      schema_version: 1,
      id,
      time,
      kind: first?.kind ?? "error",
      detector: first?.detector ?? "unknown",
      detector_kind: first?.detector_kind ?? ("unknown" as IncidentRecord["detector_kind"]),
      message: first ? `${first.message} ${note}` : note,
      exception_type: first?.exception_type ?? null,
      fingerprint: "",
      meta: { interrupted: true },
      generation: first?.generation ?? 0,
      process: { kind: "local", argv: [], cwd: "", pid: null },
      restarts: 0,
      max_restarts: 0,
      env: { configured: {}, overlay: {} },
      seen_before: { count: 0, first_time: null, last_time: null, earlier: [] },
      trace: null,
      frames: [],
      frames_section: "",
      related,
      configs: [],
      log_excerpt: { lines: 0, tail: [] },
      outcome: null,
    };
  }

  recordOutcome(id: string, applied: AppliedOutcome): Promise<void> {
    return this.serial(id, async () => {
      const dir = this.folder(id, "record the outcome");
      const record = await this.readRecord(dir, id);
      const summary = this.redactValue(summarizeOutcome(applied, this.now()));
      const o = applied.outcome;

      const ruleMatch = path.join(dir, "rule_match.json");
      if (summary.source === "rule")
        await this.writeJson(dir, "rule_match.json", { rule: summary.rule, source: "rule" });
      else fs.rmSync(ruleMatch, { force: true });

      fs.mkdirSync(path.join(dir, "fix"), { recursive: true });
      if (summary.action) await this.writeJson(dir, "fix/action.json", summary.action);
      if (o?.response) await this.writeText(dir, "fix/claude_response.md", o.response);
      if (o?.diff) await this.writeText(dir, "fix/diff.patch", o.diff);
      const cr = applied.commandResult;
      if (cr) {
        const head = [
          `$ ${shellJoin(cr.argv)}`,
          `exit code: ${cr.exitCode ?? "none"}`,
          `timed out: ${cr.timedOut ? "yes" : "no"}`,
          "",
        ];
        await this.writeText(dir, "fix/command_output.txt", lines([...head, cr.output.replace(/\n$/, "")]));
      }

      record.outcome = summary;
      await this.writeRecord(dir, record);
      this.appendIndex(record);
    });
  }

  appendAfterLines(id: string, afterLines: string[]): Promise<void> {
    if (afterLines.length === 0) return Promise.resolve();
    return this.serial(id, async () => {
      const dir = this.folder(id, "append lines after the failure");
      const file = path.join(dir, "log_excerpt.txt");
      if (!this.afterMarked.has(id)) {
        // A previous monitor process may have written the marker already.
        let text = "";
        try {
          text = await fs.promises.readFile(file, "utf8");
        } catch {}
        const ctx = text.lastIndexOf(`\n${DETECTOR_CONTEXT_MARKER}\n`);
        const hasMarker = text.indexOf(`\n${AFTER_FAILURE_MARKER}\n`, Math.max(0, ctx)) !== -1;
        if (!hasMarker) afterLines = [AFTER_FAILURE_MARKER, ...afterLines];
        this.afterMarked.add(id);
      }
      appendNoFollow(file, this.redact(redactHeadlessPem(lines(afterLines))));
    });
  }

  appendNote(id: string, line: string): Promise<void> {
    return this.serial(id, async () => {
      const dir = this.folder(id, "add a note");
      const file = path.join(dir, "notes.md");
      let head = "";
      try {
        await fs.promises.access(file);
      } catch {
        head = "# Operator notes\n\n";
      }
      await fs.promises.appendFile(file, `${head}- ${this.redact(line.replace(/\n/g, " "))}\n`);
    });
  }

  async list(limit?: number): Promise<IndexEntry[]> {
    return newestEntries(readIndex(this.dir), limit);
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Render the frames (falling back to the listing when the renderer fails) and write them,
   * redacted, under `frames/`. Returns the written names and the redacted section.
   */
  private async writeFrames(
    dir: string,
    trace: NewIncident["detection"]["trace"],
    cwd: string,
  ): Promise<{ files: string[]; section: string }> {
    const input = { trace, cwd, maxFrames: this.maxFrames };
    let rendered: RenderedFrames;
    try {
      rendered = await this.render(input);
    } catch (err) {
      this.logger.warn(`Cannot render the source frames: ${(err as Error).message}; listing them instead`);
      rendered = await listFrames(input);
    }
    fs.mkdirSync(path.join(dir, "frames"));
    const files: string[] = [];
    const taken = new Set<string>();
    for (const f of rendered.files) {
      let name = slugify(this.redact(f.name), 120, "frame.md");
      for (let n = 2; taken.has(name); n++) name = `${n}-${name}`;
      taken.add(name);
      await this.writeText(dir, `frames/${name}`, f.content);
      files.push(`frames/${name}`);
    }
    const section = rendered.section.trim() === "" ? NO_FRAMES : this.redact(rendered.section);
    return { files, section };
  }

  /**
   * The last lines of the excerpt for report.md, redacted as one text (a PEM block spans lines:
   * redacting line by line would miss its body), then split.
   */
  private excerptTail(excerpt: string[]): string[] {
    if (excerpt.length === 0) return [];
    const window = excerpt.slice(-REPORT_TAIL_LINES * 4).join("\n");
    return this.redact(redactHeadlessPem(window)).split("\n").slice(-REPORT_TAIL_LINES);
  }

  /** Earlier incidents with fingerprint `fp` in index.jsonl: count, first/last time, links. */
  private seenBefore(fp: string): SeenBefore {
    let seenCount = 0;
    let same: SameEntry[] = [];
    try {
      // The first and the newest EARLIER_LINKS of them, from the in-memory view (O(1) per incident).
      const got = this.index.same(fp);
      const newest = got.newest(EARLIER_LINKS + 1);
      same = got.first !== null && newest[0]?.id !== got.first.id ? [got.first, ...newest] : newest;
      seenCount = got.count;
    } catch (err) {
      this.logger.warn(`Cannot read ${indexPath(this.dir)}: ${(err as Error).message}`);
    }
    const toLink = (e: SameEntry): EarlierIncident => ({
      id: e.id,
      time: e.time,
      resolution: e.action
        ? e.rule
          ? `rule ${e.rule} → ${e.action}`
          : `${e.source ?? "?"} → ${e.action}`
        : null,
    });
    const newest = same.slice(1).slice(-EARLIER_LINKS);
    return {
      count: seenCount,
      first_time: same[0]?.time ?? null,
      last_time: same[same.length - 1]?.time ?? null,
      earlier: [...same.slice(0, 1), ...newest].map(toLink),
    };
  }

  /** Subdirectories of a new incident folder (configs/, fix/, frames/), one level deep. */
  private subdirs(dir: string): string[] {
    try {
      return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => path.join(dir, e.name));
    } catch {
      return [];
    }
  }

  /** Create the folder with a non-recursive mkdir: whoever creates it owns the name. */
  private async claimFolder(base: string): Promise<IncidentRef> {
    mkdirNoFollow(this.dir); // a symlinked incidents/ would put every folder outside the project
    for (let n = 0; n <= MAX_COLLISIONS; n++) {
      const id = withCollisionSuffix(base, n);
      const dir = path.join(this.dir, id);
      try {
        // Synchronous: a mkdir takes microseconds, a hand-off to a worker thread can take
        // milliseconds on a loaded machine (and this is on the way from a failure to its restart).
        fs.mkdirSync(dir);
        return { id, dir };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    throw new Error(`Cannot create incident folder: ${base} and ${MAX_COLLISIONS} suffixes exist`);
  }

  private folder(id: string, what: string): string {
    const dir = resolveIncidentDir(this.dir, id);
    if (dir === null) throw new Error(`Cannot ${what}: no incident ${JSON.stringify(id)} in ${this.dir}`);
    return dir;
  }

  private async writeText(dir: string, rel: string, text: string): Promise<void> {
    await this.writeFile(dir, rel, this.redact(text));
  }

  /** JSON is redacted value by value (see redact-value.ts), never as text. */
  private async writeJson(dir: string, rel: string, value: unknown): Promise<void> {
    await this.writeFile(dir, rel, pretty(this.redactValue(value)));
  }

  /**
   * Write one file of folder `dir` atomically. Durable before it returns, or (with `durability`)
   * handed over to be made durable, with its directory, right after.
   */
  private async writeFile(dir: string, rel: string, data: string): Promise<void> {
    const file = path.join(dir, rel);
    if (this.durability) {
      // Without an fsync a small file is written in microseconds: synchronously, rather than
      // through the worker threads of the async API (several hand-offs per file, each a wait for
      // a core on a loaded machine).
      replaceFileSync(file, data);
      this.durability.add(file);
      this.durability.add(path.dirname(file));
      return;
    }
    await writeFileAtomic(file, data, 0o644, !this.creating.has(dir));
  }

  /** Make a directory's entries durable: now, or through `durability`. */
  private syncDir(dir: string): void {
    if (this.durability) this.durability.add(dir);
    else fsyncDirectory(dir);
  }

  private async copyConfigs(dir: string, sources: string[]): Promise<ConfigSnapshotNote[]> {
    const notes: ConfigSnapshotNote[] = [];
    const taken = new Set<string>();
    if (sources.length > 0) fs.mkdirSync(path.join(dir, "configs"));
    for (const source of sources) {
      const got = readSnapshot(source, MAX_CONFIG_SNAPSHOT_BYTES);
      if ("error" in got) {
        this.logger.warn(`config snapshot ${source}: ${got.error}`);
        notes.push({ source, snapshot: null, note: got.error });
        continue;
      }
      const name = snapshotName(this.redact(source), taken);
      taken.add(name);
      const cutNote = `cut at ${MAX_CONFIG_SNAPSHOT_BYTES} bytes`;
      await this.writeText(
        dir,
        `configs/${name}`,
        got.cut ? `${got.text}\n[autosentry: ${cutNote}]\n` : got.text,
      );
      notes.push(
        got.cut
          ? { source, snapshot: `configs/${name}`, note: cutNote }
          : { source, snapshot: `configs/${name}` },
      );
    }
    return notes;
  }

  private async readRecord(dir: string, id: string): Promise<IncidentRecord> {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, "incident.json"), "utf8")) as IncidentRecord;
    } catch (err) {
      throw new Error(`Cannot read incident ${id}: incident.json: ${(err as Error).message}`);
    }
  }

  /** incident.json, then report.md rendered from it. */
  private async writeRecord(dir: string, record: IncidentRecord): Promise<void> {
    await Promise.all([
      this.writeFile(dir, "incident.json", pretty(record)),
      this.writeText(dir, "report.md", renderReport(record)),
    ]);
  }

  private appendIndex(record: IncidentRecord): void {
    const o = record.outcome;
    const entry: IndexEntry = {
      id: record.id,
      time: record.time,
      kind: record.kind,
      detector: record.detector,
      message: record.message,
      exception_type: record.exception_type,
      fingerprint: record.fingerprint,
      rule: o?.rule ?? null,
      action: o?.action?.kind ?? null,
      source: o?.source ?? null,
      generation: record.generation,
    };
    try {
      appendJsonl(indexPath(this.dir), entry, this.durability === undefined);
      this.durability?.add(indexPath(this.dir));
    } catch (err) {
      // The folder is complete; only `incidents list` misses it.
      this.logger.error(`Cannot append to ${indexPath(this.dir)}: ${(err as Error).message}`);
    }
  }

  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return next;
  }
}
