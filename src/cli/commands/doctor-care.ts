/**
 * @module
 * The checks of `autosentry doctor` about the project's health over time (issue 8): writable
 * folders, the git repository, stale requests and locks, the vault, the attempts ledger, the
 * installed version against the latest known release, and the agent skills and Stop hook. Each
 * problem that has a safe repair carries it (`doctor --fix` applies it and checks again). A repair
 * never deletes what it cannot restore: broken files are moved aside (`.broken-<time>`,
 * `.stale-<time>`), never removed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LoadedConfig } from "../../config/load.ts";
import { compileRegex } from "../../config/regex.ts";
import { LEDGER_COLUMNS, ledgerPath } from "../../fixes/ledger.ts";
import type { JournalRecord } from "../../journal/journal.ts";
import { ownerAlive, readLock } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { createRedactor } from "../../redact/redactor.ts";
import { installStopHook, readStopHook } from "../../session/hooks.ts";
import { placesFrom, type Scope, type Tool } from "../../skills/catalog.ts";
import { allDestinations, installedState, installSkills } from "../../skills/install.ts";
import type { SkillName } from "../../skills/texts.ts";
import { writeFileAtomicSync } from "../../util/atomic-write.ts";
import { readJsonl } from "../../util/jsonl.ts";
import { MemoryLogger } from "../../util/logger.ts";
import { VaultWriter } from "../../vault/writer.ts";
import { VERSION } from "../version.ts";
import { cliInvocation } from "./probe.ts";

export type Level = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  level: Level;
  detail: string;
  /** A safe repair for this problem (applied by --fix). */
  fix?: () => string;
}

/** `2026-01-02T03-04-05Z`: a time for file names. */
function stamp(): string {
  return new Date()
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/:/g, "-");
}

/** Move `file` aside as `<file>.<what>-<time>`; returns the new path. */
function moveAside(file: string, what: "broken" | "stale"): string {
  const to = `${file}.${what}-${stamp()}`;
  fs.renameSync(file, to);
  return to;
}

function git(root: string, args: string[]): { ok: boolean; out: string } {
  try {
    const p = Bun.spawnSync(["git", "-C", root, ...args], { stdout: "pipe", stderr: "pipe" });
    return { ok: p.exitCode === 0, out: p.stdout.toString().trim() || p.stderr.toString().trim() };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/** Folders autosentry writes to must be writable (a read-only checkout or a full quota shows here). */
export function writableDirs(cfg: LoadedConfig): Check {
  const c = cfg.data;
  const p = monitorPaths(c);
  const dirs = [path.dirname(p.state), p.logDir, p.incidents, ...(c.vault.enabled ? [c.vault.path] : [])];
  const bad: string[] = [];
  let seen = 0;
  for (const d of [...new Set(dirs)]) {
    if (!fs.existsSync(d)) continue;
    seen++;
    try {
      fs.accessSync(d, fs.constants.W_OK);
      // access() trusts the mode bits; a read-only mount or an exhausted quota only shows on a write.
      const probe = path.join(d, `.autosentry-doctor-${process.pid}`);
      fs.writeFileSync(probe, "");
      fs.rmSync(probe);
    } catch (err) {
      bad.push(`${d} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (bad.length > 0)
    return { name: "writable dirs", level: "fail", detail: `cannot write to ${bad.join(", ")}` };
  return {
    name: "writable dirs",
    level: "ok",
    detail: seen > 0 ? `${seen} folder${seen === 1 ? "" : "s"} writable` : "none created yet",
  };
}

/** The git repository the agent's fixes go into. */
export function gitState(cfg: LoadedConfig): Check {
  const root = cfg.root;
  const wantsGit = cfg.data.healing.git.enabled;
  const inside = git(root, ["rev-parse", "--is-inside-work-tree"]);
  if (!inside.ok || inside.out !== "true") {
    return {
      name: "git repository",
      level: wantsGit ? "warn" : "ok",
      detail: `${root} is not in a git work tree${wantsGit ? ": the agent's fixes cannot be put on branches (git init, or healing.git.enabled: false)" : ""}`,
    };
  }
  const branch = git(root, ["symbolic-ref", "--short", "-q", "HEAD"]);
  const gitDir = git(root, ["rev-parse", "--absolute-git-dir"]).out;
  const busy = ["MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "BISECT_LOG"].filter((f) =>
    fs.existsSync(path.join(gitDir, f)),
  );
  const dirty = git(root, ["status", "--porcelain"]).out.split("\n").filter(Boolean).length;
  const fixes = git(root, ["branch", "--list", `${cfg.data.healing.git.branch_prefix}*`])
    .out.split("\n")
    .filter(Boolean).length;
  const parts = [
    branch.ok ? `on ${branch.out}` : "detached HEAD",
    `${dirty} uncommitted change${dirty === 1 ? "" : "s"}`,
    `${fixes} fix branch${fixes === 1 ? "" : "es"}`,
  ];
  if (busy.length > 0)
    return {
      name: "git repository",
      level: "warn",
      detail: `${parts.join(", ")}; a ${busy.join(", ")} is in progress: finish it before the agent branches from HEAD`,
    };
  if (!branch.ok && wantsGit)
    return {
      name: "git repository",
      level: "warn",
      detail: `${parts.join(", ")}: a kept fix has no branch to return to; check out a branch`,
    };
  return { name: "git repository", level: "ok", detail: parts.join(", ") };
}

/** Requests nobody will answer, and locks whose owner is gone. */
export function staleFiles(cfg: LoadedConfig): Check[] {
  const c = cfg.data;
  const p = monitorPaths(c);
  const lock = readLock(p.lock);
  const monitorAlive = lock !== null && ownerAlive(lock);
  const out: Check[] = [];
  const req = c.healing.claude.request_path;
  if (fs.existsSync(req)) {
    if (monitorAlive)
      out.push({
        name: "recovery request",
        level: "ok",
        detail: `${req} waits for \`autosentry healer respond\``,
      });
    else
      out.push({
        name: "recovery request",
        level: "warn",
        detail: `${req} is left from a monitor that is gone: nobody waits for the answer`,
        fix: () => `moved the stale request to ${moveAside(req, "stale")}`,
      });
  }
  // Other lock files next to state.json (the monitor's own is checked as "monitor").
  const dir = path.dirname(p.state);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith(".lock") && path.join(dir, f) !== p.lock);
  } catch {}
  for (const n of names) {
    const file = path.join(dir, n);
    const owner = readLock(file);
    if (owner && !ownerAlive(owner))
      out.push({
        name: "stale lock",
        level: "warn",
        detail: `${file}: its owner (pid ${owner.pid}) is gone`,
        fix: () => {
          fs.rmSync(file, { force: true });
          return `removed the stale lock ${file}`;
        },
      });
  }
  return out;
}

/** The attempts ledger: every row has the columns `analyze` reads. */
export function ledgerCheck(cfg: LoadedConfig): Check | null {
  const file = ledgerPath(cfg.root);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  const bad: number[] = [];
  let rows = 0;
  lines.forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#") || (i === 0 && line.split("\t").includes("incident_id")))
      return;
    if (line.split("\t").length < LEDGER_COLUMNS.length) bad.push(i + 1);
    else rows++;
  });
  if (bad.length === 0)
    return { name: "attempts ledger", level: "ok", detail: `${rows} row${rows === 1 ? "" : "s"} (${file})` };
  return {
    name: "attempts ledger",
    level: "fail",
    detail: `${file}: line${bad.length === 1 ? "" : "s"} ${bad.slice(0, 10).join(", ")} ${bad.length === 1 ? "has" : "have"} fewer than ${LEDGER_COLUMNS.length} tab-separated fields`,
    fix: () => {
      const aside = moveAside(file, "broken");
      const keep = lines.filter((_l, i) => !bad.includes(i + 1));
      writeFileAtomicSync(file, keep.join("\n"));
      return `kept the ${rows} good rows of the ledger; the whole file is in ${aside}`;
    },
  };
}

/** The vault: writable, and not missing its notes when the journal has events. */
export function vaultCheck(cfg: LoadedConfig): Check | null {
  const c = cfg.data;
  if (!c.vault.enabled) return null;
  const p = monitorPaths(c);
  const journal = fs.existsSync(p.journal) ? readJsonl(p.journal).records.length : 0;
  const hasNotes =
    fs.existsSync(path.join(c.vault.path, "index.md")) ||
    (fs.existsSync(c.vault.path) && fs.readdirSync(c.vault.path).length > 0);
  if (hasNotes || journal === 0)
    return {
      name: "vault",
      level: "ok",
      detail: hasNotes ? c.vault.path : `${c.vault.path} (written from the first run)`,
    };
  return {
    name: "vault",
    level: "warn",
    detail: `${c.vault.path} has no notes although the journal has ${journal} events`,
    fix: () => {
      const redactor = createRedactor({
        extraPatterns: c.redaction.extra_patterns.map((x) => compileRegex(x)),
        allow: c.redaction.allow,
      });
      const logger = new MemoryLogger();
      const vault = new VaultWriter({
        root: c.vault.path,
        incidentsDir: p.incidents,
        patternThreshold: c.vault.pattern_threshold,
        redact: (t) => redactor.redact(t),
        logger,
        process: { kind: c.process.kind, cwd: c.process.cwd },
      });
      const records = readJsonl(p.journal).records as unknown as JournalRecord[];
      for (const r of records) vault.onRecord(r);
      return `rebuilt ${c.vault.path} from ${records.length} journal events${vault.errors ? ` (${vault.errors} could not be recorded)` : ""}`;
    },
  };
}

/** Where `autosentry update` caches what it learnt about the latest release. */
export function updateCachePath(env: Record<string, string | undefined> = process.env): string {
  const home = env.HOME && env.HOME !== "" ? env.HOME : os.homedir();
  const cache =
    env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(home, ".cache");
  return path.join(cache, "autosentry", "update-check.json");
}

/** -1, 0 or 1 as `a` is older than, the same as or newer than `b` (x.y.z, a pre-release sorts first). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, "").split("-", 2);
    return { nums: (core ?? "").split(".").map((n) => Number.parseInt(n, 10) || 0), pre: pre ?? null };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === null) return 1;
  if (y.pre === null) return -1;
  return x.pre < y.pre ? -1 : 1;
}

/** This version against the latest one `autosentry update` last saw (no network here). */
export function versionCheck(
  env: Record<string, string | undefined> = process.env,
  current = VERSION,
): Check {
  const file = updateCachePath(env);
  let data: { checked_at?: unknown; latest?: unknown };
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    return {
      name: "version",
      level: "ok",
      detail: `${current}; ${missing ? "no update check yet" : `cannot read ${file}`} (autosentry update --check looks)`,
    };
  }
  const latest = typeof data.latest === "string" ? data.latest : null;
  const when = typeof data.checked_at === "string" ? data.checked_at : "an unknown time";
  if (!latest) return { name: "version", level: "ok", detail: `${current}; ${file} names no latest version` };
  if (compareVersions(current, latest) < 0)
    return {
      name: "version",
      level: "warn",
      detail: `${current} is older than ${latest} (known since ${when}): autosentry update`,
    };
  return { name: "version", level: "ok", detail: `${current}, the latest known (checked ${when})` };
}

/** Installed skills that are out of date, and a Stop hook whose program is gone. */
export function skillsChecks(
  cfg: LoadedConfig,
  env: Record<string, string | undefined> = process.env,
): Check[] {
  const places = placesFrom(cfg.root, env, os.homedir());
  const out: Check[] = [];
  for (const scope of ["local", "global"] as Scope[]) {
    const dests = allDestinations(scope, places).map((d) => ({ d, state: installedState(d) }));
    const installed = dests.filter((x) => x.state === "installed").length;
    const outdated = dests.filter((x) => x.state === "outdated");
    const name = `skills (${scope})`;
    if (outdated.length > 0) {
      const pairs = [...new Set(outdated.map((x) => `${x.d.tool}:${x.d.skill}`))];
      out.push({
        name,
        level: "warn",
        detail: `${outdated.length} file${outdated.length === 1 ? "" : "s"} hold an older text: ${outdated
          .map((x) => x.d.file)
          .slice(0, 5)
          .join(", ")}`,
        fix: () => {
          for (const pair of pairs) {
            const [tool, skill] = pair.split(":") as [Tool, SkillName];
            installSkills({ tools: [tool], skills: [skill], scope, force: false }, places);
          }
          return `refreshed the ${scope} skills of ${pairs.join(", ")}`;
        },
      });
    } else if (installed > 0)
      out.push({ name, level: "ok", detail: `${installed} file${installed === 1 ? "" : "s"} up to date` });
    else if (scope === "local")
      out.push({
        name,
        level: "ok",
        detail: "none installed (autosentry skills install teaches coding agents the /autosentry commands)",
      });
  }
  const hook = readStopHook(cfg.root);
  if (hook.command && cfg.data.dispatch.mode !== "session")
    out.push({
      name: "stop hook",
      level: "ok",
      detail: `installed; it stays silent until dispatch.mode: session (now ${cfg.data.dispatch.mode})`,
    });
  if (hook.command) {
    const program = hook.command.match(/^'([^']+)'|^(\S+)/);
    const exe = program?.[1] ?? program?.[2] ?? "";
    const found = exe.includes("/") ? fs.existsSync(exe) : Bun.which(exe, { PATH: env.PATH ?? "" }) !== null;
    if (!found)
      out.push({
        name: "stop hook program",
        level: "warn",
        detail: `the Stop hook runs ${exe}, which does not exist (moved or deleted)`,
        fix: () => installStopHook(cfg.root, hook.command!.replace(program![0], cliInvocation(env))).message,
      });
  }
  return out;
}
