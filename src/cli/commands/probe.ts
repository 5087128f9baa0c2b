/**
 * @module
 * `autosentry probe [--inject-prompt] [--advance-cursor ID] [-q] [-c PATH]`: one look at the project
 * for a Claude Code session (src/session/probe.ts has the semantics).
 *
 * - Plain: the JSON report (schema v2) on stdout and a one-line summary on stderr (unless -q); exit 1
 *   when something needs attention (monitor down, stale or wedged, incidents waiting), else 0.
 * - `--advance-cursor ID`: first mark every incident up to ID as handled by the session.
 * - `--inject-prompt`: the Claude Code Stop hook. Reads the hook input from stdin (when there is
 *   one); prints `{"decision":"block","reason":…}` only under dispatch.mode: session, when there is
 *   work and the session is not already continuing because of a Stop hook (`stop_hook_active`);
 *   otherwise prints nothing. Always exits 0, even for a broken config: Claude Code reads the
 *   decision only on exit 0, and exit 2 would feed our stderr to the session as a blocking error.
 */
import * as fs from "node:fs";
import { ConfigError, type LoadedConfig, loadConfig } from "../../config/load.ts";
import type { Detection } from "../../core/types.ts";
import { compileRules, firstMatch } from "../../healers/rules.ts";
import { isValidIncidentId, resolveIncidentDir } from "../../incidents/paths.ts";
import { readIndex } from "../../incidents/read.ts";
import type { IncidentRecord } from "../../incidents/record.ts";
import { ownerAlive, readLock } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { type MonitorState, readState } from "../../monitor/state.ts";
import {
  type PendingIncident,
  type ProbeReport,
  parseHookInput,
  probeReport,
  shellQuote,
  stopHookOutput,
} from "../../session/probe.ts";
import { readCursor, writeCursor } from "../../session/queue.ts";
import { isCompiled, selfCommand } from "../../util/self-command.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** How a session should call this program: `autosentry` when that name on PATH is this binary. */
export function cliInvocation(env: Record<string, string | undefined> = process.env): string {
  const self = selfCommand();
  if (isCompiled()) {
    const onPath = Bun.which("autosentry", { PATH: env.PATH ?? "" });
    try {
      if (onPath && fs.realpathSync(onPath) === fs.realpathSync(self[0]!)) return "autosentry";
    } catch {}
  }
  return self.map(shellQuote).join(" ");
}

/** Incidents of the index after `cursor`, each with the first rule that matches it. */
export function pendingIncidents(cfg: LoadedConfig, cursor: string | null): PendingIncident[] {
  const c = cfg.data;
  let rules: ReturnType<typeof compileRules> = [];
  try {
    rules = compileRules(c.rules);
  } catch {}
  const out: PendingIncident[] = [];
  for (const e of readIndex(c.incidents_dir)) {
    if (cursor !== null && e.id <= cursor) continue;
    const folder = resolveIncidentDir(c.incidents_dir, e.id);
    if (folder === null) continue;
    let record: IncidentRecord | null = null;
    try {
      record = JSON.parse(fs.readFileSync(`${folder}/incident.json`, "utf8")) as IncidentRecord;
    } catch {}
    const primary: Detection = {
      detector: e.detector,
      detectorKind: (record?.detector_kind as Detection["detectorKind"]) ?? "pattern",
      kind: e.kind === "anomaly" ? "anomaly" : "error",
      message: e.message,
      exceptionType: e.exception_type ?? undefined,
      trace: record?.trace ?? undefined,
      context: [],
      meta: {},
      at: Date.parse(e.time) || 0,
      generation: e.generation,
    };
    const related: Detection[] = (record?.related ?? []).map((d) => ({
      ...primary,
      detector: d.detector,
      detectorKind: d.detector_kind,
      kind: d.kind,
      message: d.message,
      exceptionType: d.exception_type ?? undefined,
    }));
    const m = firstMatch(rules, [primary, ...related]);
    out.push({
      id: e.id,
      detector: e.detector,
      kind: e.kind,
      message: e.message,
      rule_match: m?.rule.name ?? null,
      suggested_action: m ? { ...m.rule.action } : null,
      folder,
    });
  }
  return out;
}

/** Gather everything on disk and build the report. */
export function gatherProbe(cfg: LoadedConfig, now: number = Date.now()): ProbeReport {
  const c = cfg.data;
  const paths = monitorPaths(c);
  let state: MonitorState | null = null;
  try {
    state = readState(paths.state);
  } catch {}
  const owner = readLock(paths.lock);
  const cursor = readCursor(c.dispatch.cursor_path);
  return probeReport({
    configPath: cfg.path,
    root: cfg.root,
    dispatchMode: c.dispatch.mode,
    state,
    lock: owner ? { pid: owner.pid, alive: ownerAlive(owner) } : null,
    cursor,
    pending: c.dispatch.mode === "session" ? pendingIncidents(cfg, cursor) : [],
    staleAfterSeconds: c.monitor.stall_timeout_seconds,
    deadChildGraceSeconds: c.monitor.dead_child_grace_seconds,
    now,
  });
}

/** stdin's text when it is a pipe or a file (the hook input), waiting at most `timeoutMs`. */
async function readStdin(timeoutMs: number): Promise<string | null> {
  if (process.stdin.isTTY) return null;
  const reader = Bun.stdin.stream().getReader();
  const chunks: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => {
    timer = setTimeout(() => r("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const got = await Promise.race([reader.read(), timeout]);
      if (got === "timeout" || got.done) break;
      chunks.push(got.value);
      if (chunks.reduce((n, c) => n + c.length, 0) > 1024 * 1024) break;
    }
  } catch {
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `probe`'s options. */
interface ProbeCliOptions extends ConfigFlag {
  injectPrompt?: boolean | undefined;
  advanceCursor?: string | undefined;
  quiet?: boolean | undefined;
}

/** What `autosentry probe` does (its options are declared in src/cli/tree/probe.ts). */
export async function probeCommand(opts: ProbeCliOptions): Promise<void> {
  const hook = opts.injectPrompt === true;
  let cfg: LoadedConfig;
  try {
    cfg = loadConfig({ path: opts.config, allowMissing: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (hook) {
      // Never break the session over our config: say it on stderr, decide nothing.
      if (!opts.quiet) process.stderr.write(`autosentry probe: ${err.message}\n`);
      return;
    }
    process.stderr.write(`${err.message}\n`);
    throw new CliExit(EXIT.usage);
  }
  if (opts.advanceCursor !== undefined) {
    if (!isValidIncidentId(opts.advanceCursor)) {
      throw new CliExit(
        EXIT.usage,
        `autosentry probe: not an incident id: ${JSON.stringify(opts.advanceCursor)}`,
      );
    }
    writeCursor(cfg.data.dispatch.cursor_path, opts.advanceCursor);
  }
  const input = hook ? parseHookInput(await readStdin(5000)) : null;
  const report = gatherProbe(cfg);
  if (!opts.quiet) process.stderr.write(`autosentry probe: ${report.summary}\n`);
  if (hook) {
    const out = stopHookOutput(report, input, cliInvocation());
    if (out !== null) process.stdout.write(`${out}\n`);
    return;
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.needs_attention) process.exitCode = EXIT.failure;
}
