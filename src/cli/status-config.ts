/**
 * @module
 * The part of the config `autosentry status` and `autosentry incidents list|show` need: where
 * state.json, the monitor lock and the incidents are, the pipeline's stage names, the redaction
 * settings and the env values to redact, without loading the config schema on every call.
 *
 * Why: validating the config costs ~60 ms of CPU (the `yaml` library and zod's schema, built when
 * their modules load, then the parse), more than twice the whole budget of `status` (issue 13:
 * under 25 ms). So the first `status` for a config validates it fully, exactly as before (a broken
 * config is reported as before: its errors with file:line:col, exit code 2), and keeps what status
 * needs in the user's cache directory. Later calls use that record while everything the result
 * depends on is unchanged: this executable (size, mtime, inode), the config's path and project
 * root, the file's bytes, and the values of every environment variable the file names (`$VAR`).
 * Any change is a miss, which validates again. Only the compiled executable uses the cache (from
 * source, the schema may change without the executable changing).
 *
 * Secrets: the record keeps the env values as written in the file (process.env, each stage's env,
 * each rule's `set:`), never their expansion, so a value that came from the environment is not
 * written to disk; they are expanded again on each call, as the loader does. The record is mode
 * 0600. A cache that cannot be read or written is ignored (read-only home, full disk).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { interpolate } from "../config/interpolate.ts";
import { findConfigPath, projectRootFor } from "../config/paths.ts";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { isCompiled } from "../util/self-command.ts";
import { exitQuietlyOnOutputErrors } from "./output-errors.ts";

/** What status reads from the config. */
export interface StatusConfig {
  root: string;
  statePath: string;
  lockPath: string;
  /** `incidents_dir`, absolute. */
  incidentsDir: string;
  /** process.stages' names, in order (empty without a pipeline). */
  stageNames: string[];
  extraPatterns: string[];
  allow: string[];
  /** Env maps whose values are redacted: process.env, each stage's env, each rule's `set:`. */
  secretEnvs: Array<Record<string, string>>;
}

/** An env map as written: the value, and whether the loader expands `$VAR` in it. */
type RawEnv = Record<string, { value: string; expand: boolean }>;

/** The cached record: {@link StatusConfig} with the env maps as written. */
interface CachedRecord {
  format: 2;
  key: string;
  root: string;
  statePath: string;
  incidentsDir: string;
  stageNames: string[];
  extraPatterns: string[];
  allow: string[];
  envs: RawEnv[];
}

/**
 * What `status` needs from the config named by `configOpt` (or found from the cwd). A config
 * error is reported as {@link loadConfigForCli} reports it (stderr, exit code 2).
 */
export async function statusConfig(configOpt: string | undefined): Promise<StatusConfig> {
  const cwd = process.cwd();
  const found = findConfigPath(cwd, configOpt);
  const cacheable = isCompiled();
  let text: string | null = null;
  if (found !== null) {
    try {
      text = fs.readFileSync(found, "utf8");
    } catch {
      // Unreadable: the loader below says so in its own words.
    }
  }
  const root = found === null ? cwd : projectRootFor(found);
  const key = found === null || text !== null ? cacheKey(found ?? `(none) ${cwd}`, root, text ?? "") : null;
  const file = cacheFile(found ?? `(none) ${cwd}`);
  if (cacheable && key !== null && file !== null) {
    const hit = readRecord(file, key);
    if (hit !== null) {
      const expanded = expand(hit);
      if (expanded !== null) return expanded;
    }
  }
  // Validate as every other command does (and report a broken config the same way).
  exitQuietlyOnOutputErrors();
  const { loadConfigForCli } = await import("./config-option.ts");
  const { monitorPaths } = await import("../monitor/paths.ts");
  const cfg = loadConfigForCli({ config: configOpt }, { allowMissing: true });
  const record: CachedRecord = {
    format: 2,
    key: key ?? "",
    root: cfg.root,
    statePath: monitorPaths(cfg.data).state,
    incidentsDir: cfg.data.incidents_dir,
    stageNames: cfg.data.process.stages.map((s) => s.name),
    extraPatterns: cfg.data.redaction.extra_patterns,
    allow: cfg.data.redaction.allow,
    envs: rawEnvs(cfg.raw),
  };
  // Cache only what was validated from the bytes the key was made of.
  if (cacheable && key !== null && file !== null && cfg.root === root) writeRecord(file, record);
  const expanded = expand(record);
  if (expanded === null) throw new Error("status: the config's env values do not expand after validation");
  return expanded;
}

/** The record's paths and env maps as status uses them (null when a `$VAR` no longer expands). */
function expand(r: CachedRecord): StatusConfig | null {
  const env = process.env;
  const secretEnvs: Array<Record<string, string>> = [];
  for (const raw of r.envs) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      try {
        out[k] = v.expand ? interpolate(v.value, env) : v.value;
      } catch {
        return null;
      }
    }
    secretEnvs.push(out);
  }
  return {
    root: r.root,
    statePath: r.statePath,
    lockPath: path.join(path.dirname(r.statePath), "monitor.lock"),
    incidentsDir: r.incidentsDir,
    stageNames: r.stageNames,
    extraPatterns: r.extraPatterns,
    allow: r.allow,
    secretEnvs,
  };
}

/**
 * The env maps of the config as written (`raw`: the parsed file before expansion and defaults),
 * in the order secretEnvsOf (src/config/secret-envs.ts) lists them. `$VAR` is expanded in
 * process.env and stage env values that are strings (src/config/interpolate.ts), never in `set:`.
 */
function rawEnvs(raw: unknown): RawEnv[] {
  const rec = (v: unknown): Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const env = (m: unknown, expand: boolean): RawEnv => {
    const out: RawEnv = {};
    for (const [k, v] of Object.entries(rec(m))) {
      if (v === null || v === undefined) continue;
      out[k] = { value: String(v), expand: expand && typeof v === "string" };
    }
    return out;
  };
  const proc = rec(rec(raw).process);
  return [
    env(proc.env, true),
    ...list(proc.stages).map((s) => env(rec(s).env, true)),
    ...list(rec(raw).rules).map((r) => env(rec(rec(r).action).set, false)),
  ];
}

/** Everything a validated result depends on, hashed. */
function cacheKey(configPath: string, root: string, text: string): string | null {
  let exe: fs.Stats;
  try {
    exe = fs.statSync(process.execPath);
  } catch {
    return null;
  }
  const names = [...new Set([...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!))].sort();
  // Bun's hasher: node:crypto's module alone costs ~1.7 ms to load, a tenth of the budget.
  const h = new Bun.CryptoHasher("sha256");
  h.update(JSON.stringify([1, process.execPath, exe.size, exe.mtimeMs, exe.ino, configPath, root]));
  for (const n of names) h.update(`\0${n}=${process.env[n] ?? "\0unset"}`);
  h.update("\0\0");
  h.update(text);
  return h.digest("hex");
}

/**
 * `$XDG_CACHE_HOME/autosentry/status/<hash>.json` (~/.cache by default), one per config path and
 * executable path: two installed executables used on one project do not evict each other's record,
 * and an updated executable (same path) replaces its own.
 */
function cacheFile(configPath: string): string | null {
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), ".cache") : "");
  if (!base || !path.isAbsolute(base)) return null;
  const name = new Bun.CryptoHasher("sha256")
    .update(`${process.execPath}\0${configPath}`)
    .digest("hex")
    .slice(0, 32);
  return path.join(base, "autosentry", "status", `${name}.json`);
}

function readRecord(file: string, key: string): CachedRecord | null {
  try {
    const r = JSON.parse(fs.readFileSync(file, "utf8")) as CachedRecord;
    return r.format === 2 && r.key === key ? r : null;
  } catch {
    return null;
  }
}

function writeRecord(file: string, r: CachedRecord): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(file, `${JSON.stringify(r)}\n`, 0o600);
  } catch {
    // A cache is an optimisation: without it, the next status validates again.
  }
}
