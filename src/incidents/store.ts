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
import { JsonlAppender } from "../util/jsonl-appender.ts";
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
/**
 * The next incident's folder is prepared ahead under this prefix (not an incident id: `+` is not in
 * one, so `incidents list`, completeInterrupted and the CLI never take it for an incident).
 */
const STAGE_PREFIX = "+staging-";
/** What every incident folder holds, created ahead in the prepared folder (see `create`). */
const STAGED_FILES = ["log_excerpt.txt", "state.json", "detections.json", "incident.json", "report.md"];
const STAGED_DIRS = ["fix", "frames"];
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
  /**
   * Changes when the redaction of a text may change (the redactor learned secrets): the
   * remembered redaction of restart-history records is dropped then. Absent: it never changes.
   */
  redactVersion?: () => number;
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
  /**
   * Where the next incident's folder is prepared ahead (the monitor's run directory), so that a
   * spare folder never shows among the incidents. Used only on the file system of the incidents
   * directory (a folder is moved into place by rename); otherwise, and when not given, a folder is
   * staged in the incidents directory only while it is written (see `create`).
   */
  stagingDir?: string;
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

/**
 * Write `data` to a new file of a folder being created (not yet visible under its name): open,
 * write, close; fsynced first when `sync`. The file may exist empty (created ahead).
 */
function writeStagedSync(file: string, data: string, sync: boolean): void {
  const c = fs.constants;
  const fd = fs.openSync(file, c.O_WRONLY | c.O_CREAT | c.O_TRUNC | c.O_NOFOLLOW, 0o644);
  try {
    fs.writeFileSync(fd, data);
    if (sync) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link IncidentStore} on the local file system. */
export class FsIncidentStore implements IncidentStore {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly redact: Redact;
  private readonly redactValue: <T>(value: T) => T;
  /** {@link redactValue} for a value that is JSON-safe already (a {@link plain} copy). */
  private readonly redactPlain: (value: unknown) => unknown;
  private readonly redactVersion: () => number;
  /** state.json's restart-history records, redacted and printed: see {@link stateText}. */
  private historyText = { version: 0, texts: new Map<string, string>() };
  /** The compact JSON of frozen restart-history records (see {@link recordKey}). */
  private readonly frozenKeys = new WeakMap<object, string>();
  private readonly maxFrames: number;
  private readonly render: FrameRenderer;
  private readonly processEnv: Record<string, string>;
  private readonly now: () => number;
  /** Incidents whose log_excerpt.txt already has the after-the-failure marker. */
  private readonly afterMarked = new Set<string>();
  /** Per-incident queue: outcome and after-lines writes of one incident never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** The last folder name this store claimed (`freeId` starts after it within a second). */
  private lastClaim = { base: "", n: -1 };
  /** The next incident's folder, being prepared or ready (null: none; `create` then makes one). */
  private stage: Promise<string | null> | null = null;
  private stageSeq = 0;
  private stageToken: string | undefined;
  /** `opts.stagingDir` when a folder can be renamed from it into `dir` (checked at the first use). */
  private spareDir: string | null | undefined;
  private readonly stagingDir: string | undefined;
  private closed = false;
  /** Files written into a folder being created, relative to it (handed to `durability` after the rename). */
  private readonly written = new Map<string, string[]>();
  /** index.jsonl as far as seenBefore needs it, read incrementally. */
  private readonly index: IndexCache;
  /** index.jsonl, kept open between lines (issue 13: see src/util/jsonl-appender.ts). */
  private readonly indexOut: JsonlAppender;
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
    this.redactVersion = opts.redactVersion ?? (() => 0);
    this.historyText.version = this.redactVersion();
    this.maxFrames = opts.maxFrames ?? 20;
    this.render = opts.renderFrames ?? listFrames;
    this.processEnv = { ...(opts.processEnv ?? {}) };
    this.now = opts.now ?? Date.now;
    this.index = opts.index ?? new IndexCache(indexPath(this.dir));
    this.indexOut = new JsonlAppender(indexPath(this.dir));
    this.durability = opts.durability;
    this.stagingDir = opts.stagingDir;
  }

  /**
   * Write an incident folder. Issue 13 (restart latency): the folder is written into a staging
   * folder prepared ahead (its directories and empty files already created, off the way from a
   * failure to its restart: creating an inode costs 0.05-0.3 ms on a busy ext4, a folder needs
   * eight), with plain writes, then renamed to its id in one step. The folder is therefore complete
   * the moment it appears, and a monitor killed while writing leaves only a staging folder, which
   * the next monitor removes (the failure is then recorded again from the capture process's exit
   * file; exactly once, as the index has no line for it). The spare folder waits in `stagingDir`
   * (the monitor's run directory), never among the incidents; without one on the same file system
   * an incident is staged in the incidents directory while it is written, and nothing is prepared.
   */
  async create(input: NewIncident): Promise<IncidentRef> {
    // The state as it is now, before the first await (the caller need not copy it).
    const stateText = this.stateText(input.state);
    const overlay = envOverlayOf(input.state);
    const det = input.detection;
    const at = this.now();
    const fp = fingerprint(det);
    // Read before this incident's own index line exists.
    const seen = this.seenBefore(fp);
    const stage = await this.takeStage();
    this.written.set(stage, []);
    // Lines the detector saw after the failure line (report.md's excerpt ends at the failure).
    const after = input.afterFailure?.length ? [AFTER_FAILURE_MARKER, ...input.afterFailure] : [];
    try {
      // The files are independent: written side by side (without durability their fsyncs overlap).
      const [, , frames, configs] = await Promise.all([
        det.trace ? this.writeText(stage, "trace.txt", lines([det.trace.text])) : undefined,
        this.writeText(
          stage,
          "log_excerpt.txt",
          redactHeadlessPem(lines([...input.logExcerpt, DETECTOR_CONTEXT_MARKER, ...det.context, ...after])),
        ),
        this.writeFrames(stage, det.trace, input.process.cwd),
        this.copyConfigs(stage, input.configSnapshots),
        this.writeFile(stage, "state.json", stateText),
      ]);
      const related = input.related.includes(det) ? input.related : [det, ...input.related];
      await this.writeJson(stage, "detections.json", related.map(summarizeDetection));

      const record: IncidentRecord = this.redactValue({
        schema_version: 1,
        id: "",
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
        env: { configured: { ...this.processEnv }, overlay },
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
      // What recordOutcome adds for an outcome without an action (no other file), redacted alike.
      if (input.outcomeNote !== undefined)
        record.outcome = this.redactValue(
          summarizeOutcome({ outcome: null, note: input.outcomeNote }, this.now()),
        );
      const base = baseIncidentId(at, det.kind, det.detector);
      // The id is the folder's name: chosen free, written into incident.json and report.md, then
      // taken by the rename (a name taken in between, by hand, moves on to the next suffix).
      for (let from = this.lastClaim.base === base ? this.lastClaim.n + 1 : 0; ; ) {
        const n = this.freeSuffix(base, from);
        record.id = withCollisionSuffix(base, n);
        await this.writeRecord(stage, record);
        const dir = path.join(this.dir, record.id);
        if (this.claim(stage, dir)) {
          this.lastClaim = { base, n };
          if (after.length > 0) this.afterMarked.add(record.id);
          this.settleFolder(stage, dir);
          this.appendIndex(record);
          this.prepareStage();
          return { id: record.id, dir };
        }
        from = n + 1;
      }
    } catch (err) {
      this.written.delete(stage);
      fs.rmSync(stage, { recursive: true, force: true });
      throw err;
    }
  }

  /** The first suffix from `from` on whose folder does not exist. */
  private freeSuffix(base: string, from: number): number {
    for (let n = from; n <= MAX_COLLISIONS; n++) {
      if (!fs.existsSync(path.join(this.dir, withCollisionSuffix(base, n)))) return n;
    }
    throw new Error(`Cannot create incident folder: ${base} and ${MAX_COLLISIONS} suffixes exist`);
  }

  /**
   * Rename the staging folder to `dir`; false when that name was taken meanwhile (rename replaces
   * an empty directory, so a name is checked free first; this store is the only writer here).
   */
  private claim(stage: string, dir: string): boolean {
    if (fs.existsSync(dir)) return false;
    try {
      fs.renameSync(stage, dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTEMPTY" || code === "ENOTDIR") return false;
      throw err;
    }
  }

  /** After the rename: the files, the folder, its subfolders and incidents/ made durable (now or soon). */
  private settleFolder(stage: string, dir: string): void {
    const rels = this.written.get(stage) ?? [];
    this.written.delete(stage);
    if (this.durability) {
      for (const rel of rels) this.durability.add(path.join(dir, rel));
      for (const d of [dir, ...this.subdirs(dir)]) this.durability.add(d);
      this.durability.add(this.dir);
      return;
    }
    // Without durability every file was fsynced as written; now the directory entries.
    for (const d of [...this.subdirs(dir), dir, this.dir]) fsyncDirectory(d);
  }

  /**
   * The prepared staging folder, or (none ready, or its preparation failed) one made now. Either
   * way it holds fix/ and frames/ and nothing else of an incident yet.
   */
  private async takeStage(): Promise<string> {
    const ready = this.stage;
    this.stage = null;
    const got = ready ? await ready : null;
    mkdirNoFollow(this.dir); // a symlinked incidents/ would put every folder outside the project
    if (got !== null && fs.existsSync(got)) return got;
    // In the staging directory when it can be used, so that nothing but incidents is ever listed
    // in the incidents directory, not even for the moment a folder is written.
    const parent = this.spareFolder() ?? this.dir;
    const dir = path.join(parent, this.stageName());
    fs.mkdirSync(dir);
    for (const d of STAGED_DIRS) fs.mkdirSync(path.join(dir, d));
    return dir;
  }

  /**
   * Prepare the next incident's folder in the background (the thread pool creates it while the
   * monitor restarts the child): fix/, frames/ and the files every incident has, empty.
   */
  private prepareStage(): void {
    if (this.stage !== null || this.closed) return;
    const spare = this.spareFolder();
    if (spare === null) return;
    const dir = path.join(spare, this.stageName());
    const fsp = fs.promises;
    this.stage = (async () => {
      try {
        await fsp.mkdir(dir);
        await Promise.all([
          ...STAGED_DIRS.map((d) => fsp.mkdir(path.join(dir, d))),
          ...STAGED_FILES.map((f) => fsp.writeFile(path.join(dir, f), "", { flag: "wx", mode: 0o644 })),
        ]);
        return dir;
      } catch {
        await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
        return null;
      }
    })();
  }

  /** Remove the prepared staging folder (the monitor is stopping); no new one is prepared. */
  async close(): Promise<void> {
    this.closed = true;
    const ready = this.stage;
    this.stage = null;
    const dir = ready ? await ready : null;
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
    this.indexOut.close();
  }

  /**
   * This store's staging folder names: the pid and a random token (a monitor in a container gets
   * the same pid every time, and a killed one's folder must not be taken for this one's).
   */
  private stagePrefix(): string {
    this.stageToken ??= Math.random().toString(36).slice(2, 10);
    return `${STAGE_PREFIX}${process.pid}-${this.stageToken}-`;
  }

  private stageName(): string {
    return `${this.stagePrefix()}${++this.stageSeq}`;
  }

  /** Where spare folders go: `stagingDir` if a folder can be renamed from it into `dir`, else null. */
  private spareFolder(): string | null {
    if (this.spareDir !== undefined) return this.spareDir;
    this.spareDir = null;
    if (this.stagingDir === undefined) return null;
    try {
      mkdirNoFollow(this.stagingDir);
      if (fs.statSync(this.stagingDir).dev === fs.statSync(this.dir).dev) this.spareDir = this.stagingDir;
    } catch {
      // no spare folders: each incident is staged while it is written
    }
    return this.spareDir;
  }

  /** Staging folders a killed monitor left (never an incident: see `create`), removed. */
  private removeStaleStages(dir: string, names: string[]): void {
    const own = this.stagePrefix();
    for (const n of names) {
      if (!n.startsWith(STAGE_PREFIX) || n.startsWith(own)) continue;
      try {
        fs.rmSync(path.join(dir, n), { recursive: true, force: true });
      } catch {
        // left for the next start
      }
    }
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
      if (this.stagingDir !== undefined) {
        try {
          this.removeStaleStages(this.stagingDir, fs.readdirSync(this.stagingDir));
        } catch {
          // no staging directory yet
        }
      }
      const entries = await fs.promises.readdir(this.dir, { withFileTypes: true });
      this.removeStaleStages(
        this.dir,
        entries.filter((e) => e.isDirectory()).map((e) => e.name),
      );
      names = entries
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
    fs.mkdirSync(path.join(dir, "frames"), { recursive: true });
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
    const staged = this.written.get(dir);
    if (staged !== undefined) {
      // A folder nobody sees yet: a plain write (the rename publishes it whole).
      writeStagedSync(file, data, this.durability === undefined);
      staged.push(rel);
      return;
    }
    if (this.durability) {
      // Without an fsync a small file is written in microseconds: synchronously, rather than
      // through the worker threads of the async API (several hand-offs per file, each a wait for
      // a core on a loaded machine).
      replaceFileSync(file, data);
      this.durability.add(file);
      this.durability.add(path.dirname(file));
      return;
    }
    await writeFileAtomic(file, data);
  }

  private async copyConfigs(dir: string, sources: string[]): Promise<ConfigSnapshotNote[]> {
    const notes: ConfigSnapshotNote[] = [];
    const taken = new Set<string>();
    if (sources.length > 0) fs.mkdirSync(path.join(dir, "configs"), { recursive: true });
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

  /**
   * state.json's text: `pretty(redact(plain(state)))`, with the records of a top-level
   * `restart_history` list redacted and printed once and remembered (issue 13, restart latency: in
   * a crash loop that list is 200 records, ~38 kB of the ~52 kB, and a record does not change once
   * its restart was launched, yet every incident redacted and printed it all again). A record is
   * remembered by its own compact JSON (a changed record is a new text), for as long as it stays in
   * the list, and redacted alone inside `{restart_history: [record]}`, which is the same walk as in
   * the whole state (same depth, same key; the argv rule concerns strings next to strings). The
   * memory is dropped when the redactor learns secrets (`redactVersion`).
   */
  private stateText(state: unknown): string {
    try {
      return this.stateTextRemembered(state) ?? pretty(this.redactPlain(plain(state)));
    } catch {
      return pretty(this.redactPlain(plain(state)));
    }
  }

  /** {@link stateText} with remembered records; null when the state has no list to remember. */
  private stateTextRemembered(state: unknown): string | null {
    const history = (state as { restart_history?: unknown } | null)?.restart_history;
    if (!Array.isArray(history) || history.length === 0) return null;
    const rest = pretty(this.redactPlain(plain({ ...(state as object), restart_history: [] })));
    const slot = '\n  "restart_history": []';
    const at = rest.indexOf(slot);
    if (at === -1) return null;
    const version = this.redactVersion();
    const before = version === this.historyText.version ? this.historyText.texts : new Map<string, string>();
    const texts = new Map<string, string>();
    const records: string[] = [];
    for (const record of history) {
      const key = this.recordKey(record);
      let text = before.get(key) ?? texts.get(key);
      if (text === undefined) {
        const wrapped = this.redactPlain({ restart_history: [JSON.parse(key)] }) as Record<string, unknown[]>;
        const redacted = Object.values(wrapped)[0]?.[0] ?? null;
        text = JSON.stringify(redacted, null, 2).replace(/\n/g, "\n    ");
      }
      texts.set(key, text);
      records.push(text);
    }
    // Only the records still in the list are kept: the memory stays the list's size.
    this.historyText = { version, texts };
    const list = `\n  "restart_history": [\n    ${records.join(",\n    ")}\n  ]`;
    return rest.slice(0, at) + list + rest.slice(at + slot.length);
  }

  /**
   * A restart-history record's compact JSON (its key in {@link historyText}). A frozen record of
   * plain values cannot change (launching.ts freezes a record once its pid is known): its JSON is
   * kept with it instead of being printed again for every incident (200 records each).
   */
  private recordKey(record: unknown): string {
    if (record === null || typeof record !== "object" || !Object.isFrozen(record))
      return JSON.stringify(record) ?? "null";
    let key = this.frozenKeys.get(record);
    if (key === undefined) {
      key = JSON.stringify(record) ?? "null";
      if (Object.values(record).every((v) => v === null || typeof v !== "object"))
        this.frozenKeys.set(record, key);
    }
    return key;
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
      this.indexOut.append(entry, this.durability === undefined);
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
