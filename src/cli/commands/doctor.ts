/**
 * @module
 * `autosentry doctor [--fix] [--json]`: checks the project and the machine for what autosentry
 * needs, one line each (ok / warn / fail), and exits 1 when anything fails. `--fix` applies the
 * safe repairs (create missing folders, move an unreadable state.json aside) and checks again.
 * The checks of the project's care over time (git, stale files, vault, ledger, version, skills)
 * are in doctor-care.ts.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigError, findConfigPath, type LoadedConfig, loadConfig } from "../../config/load.ts";
import { deliveryFindings } from "../../dispatcher/delivery-check.ts";
import { resolveAgentMode } from "../../healers/agent/mode.ts";
import { readIndex } from "../../incidents/read.ts";
import { acquireLock, ownerAlive, readLock } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { resolveExecutable } from "../../monitor/preflight.ts";
import { readState } from "../../monitor/state.ts";
import { installStopHook, readStopHook } from "../../session/hooks.ts";
import { captureFor, describeCapture } from "../../supervisors/local/capture-impl.ts";
import { parseJsonl } from "../../util/jsonl.ts";
import { CliExit } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";
import { VERSION } from "../version.ts";
import { detectorCount } from "./config.ts";
import {
  type Check,
  gitState,
  type Level,
  ledgerCheck,
  skillsChecks,
  staleFiles,
  vaultCheck,
  versionCheck,
  writableDirs,
} from "./doctor-care.ts";
import { preflight } from "./run.ts";

export type { Check } from "./doctor-care.ts";

function which(name: string): string | null {
  return resolveExecutable(name, process.cwd(), process.env.PATH);
}

/** Run every check. */
export async function runChecks(configFlag: string | undefined): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  add({ name: "autosentry", level: "ok", detail: `version ${VERSION} (${process.execPath})` });
  add(versionCheck());
  const git = which("git");
  add(
    git
      ? { name: "git", level: "ok", detail: git }
      : { name: "git", level: "warn", detail: "not on PATH: agent fixes cannot be put on branches" },
  );

  const found = findConfigPath(process.cwd(), configFlag);
  let cfg: LoadedConfig | null = null;
  if (!found) {
    add({
      name: "config",
      level: "warn",
      detail: "no .autosentry/autosentry.yaml here or in a parent: run `autosentry init`",
    });
  } else {
    try {
      cfg = loadConfig({ path: configFlag });
      add({
        name: "config",
        level: "ok",
        detail: `${cfg.path} (${detectorCount(cfg.data)}, ${cfg.data.rules.length} rules)`,
      });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      add({ name: "config", level: "fail", detail: `${found} has errors:\n${err.message}` });
    }
    const legacy = path.join(path.dirname(path.dirname(found)), "autosentry.yaml");
    if (path.basename(path.dirname(found)) === ".autosentry" && fs.existsSync(legacy)) {
      add({ name: "legacy config", level: "warn", detail: `${legacy} is ignored because ${found} exists` });
    }
  }
  if (!cfg) return checks;

  const c = cfg.data;
  const paths = monitorPaths(c);
  for (const [name, dir] of [
    ["incidents dir", paths.incidents],
    ["log dir", paths.logDir],
  ] as const) {
    if (fs.existsSync(dir)) add({ name, level: "ok", detail: dir });
    else
      add({
        name,
        level: "warn",
        detail: `${dir} does not exist yet (created on first run)`,
        fix: () => {
          fs.mkdirSync(dir, { recursive: true });
          return `created ${dir}`;
        },
      });
  }

  // Chat outboxes only queue: say when nothing delivers them (issue 14 item 3).
  for (const f of deliveryFindings(cfg)) add({ name: f.name, level: f.level, detail: f.detail });

  try {
    const st = readState(paths.state);
    add({
      name: "state.json",
      level: "ok",
      detail: st
        ? `phase ${st.phase}, ${st.restarts} unverified / ${st.restarts_total} total restarts${st.stop_reason ? `; last stop: ${st.stop_reason}` : ""}`
        : "none yet",
    });
  } catch (err) {
    add({
      name: "state.json",
      level: "fail",
      detail: (err as Error).message,
      fix: () => {
        const to = `${paths.state}.broken-${new Date().toISOString().replace(/[:.]/g, "-")}`;
        fs.renameSync(paths.state, to);
        return `moved the unreadable state.json to ${to}`;
      },
    });
  }

  const lock = readLock(paths.lock);
  if (lock && ownerAlive(lock))
    add({ name: "monitor", level: "ok", detail: `running (pid ${lock.pid} since ${lock.started_at})` });
  else if (lock)
    add({
      name: "monitor",
      level: "warn",
      detail: `stale lock from pid ${lock.pid} (the monitor died; the next run takes over)`,
      fix: () => {
        // Taken and released under the lock, never deleted: deleting a lock file that a starting
        // monitor has just locked would let a second monitor lock a new file beside it.
        acquireLock(paths.lock).release();
        return `cleared the stale owner record of ${paths.lock}`;
      },
    });
  else add({ name: "monitor", level: "ok", detail: "not running" });

  add(writableDirs(cfg));
  add(gitState(cfg));
  for (const s of staleFiles(cfg)) add(s);
  const ledger = ledgerCheck(cfg);
  if (ledger) add(ledger);
  const vault = vaultCheck(cfg);
  if (vault) add(vault);
  for (const s of skillsChecks(cfg)) add(s);

  const index = path.join(paths.incidents, "index.jsonl");
  if (fs.existsSync(index)) {
    const { records, badLines } = parseJsonl(fs.readFileSync(index, "utf8"));
    add(
      badLines.length
        ? {
            name: "incidents index",
            level: "warn",
            detail: `${index}: malformed lines ${badLines.slice(0, 10).join(", ")} (skipped by readers)`,
          }
        : {
            name: "incidents index",
            level: "ok",
            // One incident has a line when opened and another when its outcome is known: count
            // incidents, not lines (issue 14 item 10).
            detail: `${plural(readIndex(paths.incidents).length, "incident")} (${plural(records.length, "line")})`,
          },
    );
  }

  const problems = preflight(cfg);
  add(
    problems.length
      ? { name: "launch", level: "fail", detail: problems.join("\n") }
      : { name: "launch", level: "ok", detail: `${c.process.command.join(" ")} (in ${c.process.cwd})` },
  );

  // Which capture process a local run starts, and why not the native helper (issue 13).
  if (c.process.kind === "local") {
    const cap = await captureFor(paths.runDir);
    add({
      name: "capture process",
      level: cap.kind === "native" || process.platform !== "linux" ? "ok" : "warn",
      detail:
        cap.kind === "native"
          ? describeCapture(cap)
          : `${describeCapture(cap)}: a second Bun runtime, ~40 MB more idle memory than the native helper`,
    });
  }

  const rp = c.process.restart_policy;
  const esc = c.healing.escalate_to_claude_after > 0 ? c.healing.escalate_to_claude_after : 2;
  add({
    name: "restart policy",
    level: "ok",
    detail: `give up after ${rp.max_restarts > 0 ? rp.max_restarts : "∞"} consecutive unverified restarts or more than ${rp.max_identical_failures || "∞"} identical failures in a row; escalate to the agent at ${esc}`,
  });
  const agent = resolveAgentMode(c, cfg.root, process.env);
  add({
    name: "agent healer",
    level: agent.mode === "disabled" && c.healing.claude.enabled !== false ? "warn" : "ok",
    detail: `${c.healing.claude.mode} → ${agent.mode}: ${agent.why}`,
  });
  if (agent.mode === "session") {
    const hook = readStopHook(cfg.root);
    if (hook.error) add({ name: "stop hook", level: "fail", detail: hook.error });
    else if (!hook.command)
      add({
        name: "stop hook",
        level: "warn",
        detail: "session mode, but no Stop hook in .claude/settings.local.json",
        fix: () => installStopHook(cfg!.root).message,
      });
    else add({ name: "stop hook", level: "ok", detail: hook.command });
  }
  if (c.source_explode.enabled) {
    // Load each enabled grammar from the binary, as the first frame of that language would.
    const { loadGrammar } = await import("../../frames/grammars.ts");
    const bad: string[] = [];
    for (const lang of c.source_explode.languages) {
      try {
        await loadGrammar(lang);
      } catch (err) {
        bad.push(`${lang} (${(err as Error).message})`);
      }
    }
    add(
      bad.length
        ? { name: "tree-sitter grammars", level: "warn", detail: `cannot load: ${bad.join(", ")}` }
        : { name: "tree-sitter grammars", level: "ok", detail: c.source_explode.languages.join(", ") },
    );
  }
  try {
    const st = fs.statfsSync(path.dirname(paths.state));
    const free = st.bavail * st.bsize;
    const gib = free / 1024 ** 3;
    add({
      name: "disk",
      level: gib < 1 ? "warn" : "ok",
      detail: `${gib.toFixed(1)} GiB free for ${path.dirname(paths.state)}`,
    });
  } catch {
    // the folder does not exist yet: nothing to measure
  }
  return checks;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const MARK: Record<Level, string> = { ok: "✓", warn: "!", fail: "✗" };

function render(checks: Check[]): string {
  const w = Math.max(...checks.map((c) => c.name.length));
  const lines = checks.map((c) => {
    const [first, ...rest] = c.detail.split("\n");
    const pad = " ".repeat(w + 5);
    return `${MARK[c.level]} ${c.name.padEnd(w)}  ${first}${rest.map((r) => `\n${pad}${r}`).join("")}`;
  });
  const n = (l: Level) => checks.filter((c) => c.level === l).length;
  lines.push("", `${n("ok")} ok  ${n("warn")} warn  ${n("fail")} fail`);
  return lines.join("\n");
}

/** What `autosentry doctor` does (its options are declared in src/cli/tree/doctor.ts). */
export async function doctorCommand(
  opts: { fix?: boolean | undefined; json?: boolean | undefined } & ConfigFlag,
): Promise<void> {
  let checks = await runChecks(opts.config);
  if (opts.fix) {
    const done = checks.filter((c) => c.level !== "ok" && c.fix).map((c) => c.fix!());
    if (done.length && !opts.json) process.stdout.write(`${done.map((d) => `fixed: ${d}`).join("\n")}\n\n`);
    if (done.length) checks = await runChecks(opts.config);
  }
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        checks.map(({ fix: _f, ...c }) => c),
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(`${render(checks)}\n`);
  }
  if (checks.some((c) => c.level === "fail")) throw new CliExit(1);
}
