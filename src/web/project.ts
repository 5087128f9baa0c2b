/**
 * @module
 * One project as the viewer sees it: its config (paths), the in-memory incident and journal
 * indexes, and what changed since the last look ({@link WebProject.poll}). Everything is read from
 * the files the monitor writes, so the viewer works whether or not a monitor runs. `--root DIR`
 * finds every project below DIR that has a `.autosentry/` folder ({@link discoverProjects}).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type LoadedConfig, loadConfig } from "../config/load.ts";
import { CONFIG_DIR, CONFIG_FILE, resolveConfigPaths } from "../config/paths.ts";
import { Config } from "../config/schema.ts";
import { parseSince } from "../fixes/analyze.ts";
import { ledgerPath } from "../fixes/ledger.ts";
import { indexPath } from "../incidents/read.ts";
import { ownerAlive, readLock } from "../monitor/lock.ts";
import { type MonitorPaths, monitorPaths } from "../monitor/paths.ts";
import { type MonitorState, readState } from "../monitor/state.ts";
import { type PipelineStatusReport, pipelineStatus } from "../pipeline/status.ts";
import { type StatusReport, statusReport } from "../project/status-report.ts";
import { type AttemptsData, attemptsData, attemptsDataFromFile } from "./attempts-data.ts";
import { IncidentIndex } from "./incident-index.ts";
import { JournalIndex } from "./journal-index.ts";

/** What {@link WebProject.poll} found changed. */
export type Topic = "state" | "incident" | "event" | "attempts" | "pipeline";

export interface Change {
  topic: Topic;
  /** New incident ids or new journal events, when the topic has them. */
  data?: unknown;
}

/** How long a windowed (`since`) attempts answer is reused while the ledger is unchanged. */
const WINDOWED_TTL_MS = 5000;
/** How many attempts answers (one per `since` value) are kept. */
const ATTEMPTS_CACHE_SIZE = 8;

function statKey(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return "-";
  }
}

/** Load a project's config without walking up to a parent's (a project found by `--root`). */
export function loadProjectConfig(dir: string): LoadedConfig {
  const file = path.join(dir, CONFIG_DIR, CONFIG_FILE);
  if (fs.existsSync(file)) return loadConfig({ path: file, cwd: dir });
  return { data: resolveConfigPaths(Config.parse({}), dir), path: null, root: dir, raw: {} };
}

export class WebProject {
  readonly paths: MonitorPaths;
  readonly autosentryDir: string;
  readonly ledger: string;
  readonly incidents: IncidentIndex;
  readonly journal: JournalIndex;
  private keys = new Map<string, string>();
  private stateCache: { key: string; state: MonitorState | null; error: string | null } | null = null;
  private attemptsCache = new Map<string, { key: string; at: number; data: AttemptsData }>();

  /**
   * @param slug URL-safe name (`/p/<slug>/…`)
   * @param name what people see (the path relative to `--root`, or the project folder's name)
   */
  constructor(
    readonly slug: string,
    readonly name: string,
    readonly cfg: LoadedConfig,
  ) {
    this.paths = monitorPaths(cfg.data);
    this.autosentryDir = path.dirname(this.paths.state);
    this.ledger = ledgerPath(cfg.root);
    this.incidents = new IncidentIndex(indexPath(this.paths.incidents));
    this.journal = new JournalIndex(this.paths.journal);
    this.incidents.refresh();
    this.journal.refresh();
    for (const f of [this.paths.state, this.ledger, path.join(this.autosentryDir, "pipeline.json")])
      this.keys.set(f, statKey(f));
  }

  get root(): string {
    return this.cfg.root;
  }

  get incidentsDir(): string {
    return this.paths.incidents;
  }

  get vaultDir(): string {
    return this.cfg.data.vault.path;
  }

  private changed(file: string): boolean {
    const k = statKey(file);
    if (this.keys.get(file) === k) return false;
    this.keys.set(file, k);
    return true;
  }

  /** What changed on disk since the previous call. Cheap: a few stat calls and the new lines. */
  poll(): Change[] {
    const out: Change[] = [];
    if (this.changed(this.paths.state)) out.push({ topic: "state" });
    const inc = this.incidents.refresh();
    if (inc.added.length || inc.updated.length || inc.reset)
      out.push({ topic: "incident", data: { added: inc.added, updated: inc.updated } });
    const ev = this.journal.refresh();
    if (ev.added.length || ev.reset) out.push({ topic: "event", data: ev.added.slice(-50) });
    if (this.changed(this.ledger)) out.push({ topic: "attempts" });
    if (this.changed(path.join(this.autosentryDir, "pipeline.json"))) out.push({ topic: "pipeline" });
    return out;
  }

  /** state.json (null before the first run); a file that cannot be read is reported, not thrown. */
  state(): { state: MonitorState | null; error: string | null } {
    const key = statKey(this.paths.state);
    if (this.stateCache?.key === key) return this.stateCache;
    let state: MonitorState | null = null;
    let error: string | null = null;
    try {
      state = readState(this.paths.state);
    } catch (err) {
      error = (err as Error).message;
    }
    this.stateCache = { key, state, error };
    return this.stateCache;
  }

  monitorAlive(): boolean {
    const lock = readLock(this.paths.lock);
    return lock !== null && ownerAlive(lock);
  }

  /** The same report `autosentry status --json` prints (null state before the first run). */
  status(): StatusReport | { schema_version: 1; state_path: string; state: null; error: string | null } {
    const { state, error } = this.state();
    if (!state) return { schema_version: 1, state_path: this.paths.state, state: null, error };
    return statusReport(this.paths.state, this.paths.lock, state, this.pipeline());
  }

  /**
   * The attempts page's data (summary, newest rows, chart series) of the ledger, windowed by
   * `since` (throws on a bad one). The ledger is summarised as it is read (never held as rows), and
   * the answer is kept per `since` while the file is unchanged (its inode, size and mtime): the
   * all-time answer until the file changes, a windowed one for {@link WINDOWED_TTL_MS} as well,
   * since its window moves with the clock. This serves the page and the chart request it makes right
   * after from one read. At most {@link ATTEMPTS_CACHE_SIZE} answers are kept (a few hundred KB each).
   */
  attemptsData(since: string | null): AttemptsData {
    parseSince(since);
    const key = statKey(this.ledger);
    const now = Date.now();
    const hit = this.attemptsCache.get(since ?? "");
    if (hit && hit.key === key && (since === null || now - hit.at < WINDOWED_TTL_MS)) return hit.data;
    let data: AttemptsData;
    try {
      data = attemptsDataFromFile(this.ledger, since, now);
    } catch {
      // `since` was checked above. An unreadable ledger shows as an empty one (as before); the page is still served.
      data = attemptsData([], since, now);
    }
    this.attemptsCache.delete(since ?? "");
    this.attemptsCache.set(since ?? "", { key, at: now, data });
    if (this.attemptsCache.size > ATTEMPTS_CACHE_SIZE) {
      this.attemptsCache.delete(this.attemptsCache.keys().next().value!);
    }
    return data;
  }

  /** Pipeline stages and the latest run; null when the config has no stages and no run exists. */
  pipeline(): PipelineStatusReport | null {
    const stages = this.cfg.data.process.stages;
    if (stages.length === 0 && !fs.existsSync(path.join(this.autosentryDir, "pipeline.json"))) return null;
    return pipelineStatus(this.autosentryDir, stages, this.monitorAlive());
  }
}

const SKIP = new Set(["node_modules", ".git", ".hg", ".svn", "__pycache__", ".venv", "venv"]);

/** URL-safe slug of a relative path. */
function slugOf(rel: string, taken: Set<string>): string {
  const base =
    rel === "" || rel === "." ? "root" : rel.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+/, "");
  let s = base || "project";
  for (let i = 2; taken.has(s); i++) s = `${base}-${i}`;
  taken.add(s);
  return s;
}

/**
 * Every directory under `root` (itself included, at most `maxDepth` levels down) that holds a
 * `.autosentry/` folder. Links are not followed (a loop on a shared filesystem must not hang the
 * viewer); hidden folders, node_modules and VCS folders are skipped.
 */
export function discoverProjectDirs(root: string, maxDepth = 4): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (ents.some((e) => e.isDirectory() && e.name === CONFIG_DIR)) out.push(dir);
    if (depth >= maxDepth) return;
    for (const e of ents) {
      if (!e.isDirectory() || e.name.startsWith(".") || SKIP.has(e.name)) continue;
      walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(path.resolve(root), 0);
  return out.sort();
}

/** Projects under `root`; a project whose config cannot be loaded is returned as an error line. */
export function discoverProjects(root: string): { projects: WebProject[]; errors: string[] } {
  const taken = new Set<string>();
  const projects: WebProject[] = [];
  const errors: string[] = [];
  for (const dir of discoverProjectDirs(root)) {
    const rel = path.relative(path.resolve(root), dir) || path.basename(dir);
    try {
      projects.push(new WebProject(slugOf(rel, taken), rel, loadProjectConfig(dir)));
    } catch (err) {
      errors.push(`${dir}: ${(err as Error).message}`);
    }
  }
  return { projects, errors };
}

/** The project of a single-project viewer (the config found from the cwd or `-c`). */
export function singleProject(cfg: LoadedConfig): WebProject {
  return new WebProject(slugOf(path.basename(cfg.root), new Set()), path.basename(cfg.root), cfg);
}
