/**
 * @module
 * `autosentry onboard [--for-agent]`: where this project stands and what to do next, phase by
 * phase. Phases: `no_config` (run init), `config_invalid` (fix the config), `not_started` (check
 * and launch), `running`, `paused`, `finished` (completed, gave up, aborted or stopped) and
 * `detached` (a child left running without its monitor). A monitor is "running" when the lock's
 * owner is alive and is still the same process (pid and start time), never on the pid alone.
 *
 * Plain text with `phase:`, `autosentry:`, `config:` and a `next:` list for an agent (`--for-agent`)
 * and whenever stdout is not a terminal; a short headed version for a person on a terminal.
 */
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, findConfigPath, loadConfig } from "../../config/load.ts";
import { readIndex } from "../../incidents/read.ts";
import { ownerAlive, readLock } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { type MonitorState, readState, TERMINAL_PHASES } from "../../monitor/state.ts";
import { placesFrom } from "../../skills/catalog.ts";
import { allDestinations, installedState } from "../../skills/install.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";
import { VERSION } from "../version.ts";

export type OnboardPhase =
  | "no_config"
  | "config_invalid"
  | "not_started"
  | "running"
  | "paused"
  | "finished"
  | "detached";

export interface Onboarding {
  phase: OnboardPhase;
  autosentry: string;
  config: string | null;
  /** One line on the state of things. */
  summary: string;
  next: string[];
}

/** Work out the phase and the next steps for the project around `cwd`. */
export function onboarding(cwd: string, configFlag: string | undefined): Onboarding {
  const base = { autosentry: `${VERSION} (${process.execPath})` };
  const found = findConfigPath(cwd, configFlag);
  if (!found) {
    return {
      ...base,
      phase: "no_config",
      config: null,
      summary: "autosentry is not set up in this project",
      next: [
        'autosentry init --command "<the command that runs your job>"   write .autosentry/autosentry.yaml',
        "autosentry init --for-agent    also write AGENT_NOTES.md and program.md for a coding agent",
        "autosentry skills install      teach your coding agents the /autosentry commands",
      ],
    };
  }
  let cfg: ReturnType<typeof loadConfig>;
  try {
    cfg = loadConfig({ path: configFlag, cwd });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const first = err.message.split("\n")[0] ?? "";
    return {
      ...base,
      phase: "config_invalid",
      config: found,
      summary: `the config has errors: ${first}`,
      next: [
        "autosentry config validate     every error with file:line:col",
        "fix them, then run `autosentry onboard` again",
      ],
    };
  }
  const paths = monitorPaths(cfg.data);
  let st: MonitorState | null = null;
  try {
    st = readState(paths.state);
  } catch {
    st = null;
  }
  const lock = readLock(paths.lock);
  const alive = lock !== null && ownerAlive(lock);
  const incidents = readIndex(paths.incidents).length;
  const cmd =
    cfg.data.process.stages.length > 0
      ? `${cfg.data.process.stages.length} stages`
      : cfg.data.process.command.join(" ");
  const restarts = st
    ? `${st.restarts} unverified / ${st.restarts_total} total restarts, ${incidents} incident${incidents === 1 ? "" : "s"}`
    : "";
  const skills = skillsHint(cfg.root);
  const common = { ...base, config: cfg.path };
  const operate = [
    "autosentry status              phase, child, restarts",
    "autosentry incidents list      then `autosentry incidents show <id>` for a report",
    "autosentry analyze             which detectors fail, which rules work",
  ];
  if (alive && st?.phase === "paused") {
    return {
      ...common,
      phase: "paused",
      summary: `the monitor (pid ${lock!.pid}) holds the child paused${st.paused_by ? ` (by ${st.paused_by})` : ""}; ${restarts}`,
      next: ["autosentry resume               start the child again", ...operate, ...skills],
    };
  }
  if (alive) {
    return {
      ...common,
      phase: "running",
      summary: `the monitor (pid ${lock!.pid}) supervises \`${cmd}\`, phase ${st?.phase ?? "starting"}; ${restarts}`,
      next: [...operate, 'autosentry pause -m "<why>"     stop the child until resume', ...skills],
    };
  }
  if (st?.desired === "paused") {
    return {
      ...common,
      phase: "paused",
      summary:
        "no monitor runs, and the project is paused: the next `autosentry run` waits for `autosentry resume`",
      next: [
        "autosentry resume               lift the pause",
        "nohup autosentry run > /dev/null 2>&1 &",
        ...skills,
      ],
    };
  }
  const launch = [
    "autosentry run --check         the command can start",
    "autosentry doctor              everything else autosentry needs",
    "nohup autosentry run > /dev/null 2>&1 &    supervise it in the background (or `autosentry install-service`)",
  ];
  if (st?.child && st.phase === "detached") {
    return {
      ...common,
      phase: "detached",
      summary: `no monitor runs, but its child (pid ${st.child.pid ?? "?"}) was left running; the next run adopts it`,
      next: ["nohup autosentry run > /dev/null 2>&1 &    re-adopt and supervise it", ...operate],
    };
  }
  if (!st || st.run_id === null) {
    return {
      ...common,
      phase: "not_started",
      summary: `configured to supervise \`${cmd}\`; it has not run yet`,
      next: [...launch, ...skills],
    };
  }
  return {
    ...common,
    phase: "finished",
    summary: TERMINAL_PHASES.has(st.phase)
      ? `the last run ended (${st.phase}${st.stop_reason ? `: ${st.stop_reason}` : ""}); ${restarts}`
      : `no monitor runs, though state.json says ${st.phase}: it died or was killed; ${restarts}`,
    next: [
      ...operate,
      'autosentry reset -m "<why>"     start the counters afresh before the next run',
      ...launch.slice(2),
      ...skills,
    ],
  };
}

/** A hint to install the skills when no agent has them in this project or globally. */
function skillsHint(root: string): string[] {
  const places = placesFrom(root, process.env, os.homedir());
  for (const scope of ["local", "global"] as const) {
    if (allDestinations(scope, places).some((d) => installedState(d) === "installed")) return [];
  }
  return ["autosentry skills install      teach your coding agents the /autosentry commands"];
}

/** The plain form (agents, pipes). */
export function renderPlain(o: Onboarding): string {
  const lines = [
    `phase: ${o.phase}`,
    `autosentry: ${o.autosentry}`,
    `config: ${o.config ?? "none"}`,
    `state: ${o.summary}`,
    "next:",
  ];
  for (const n of o.next) lines.push(`  - ${n.replace(/\s{2,}/, "   # ")}`);
  return `${lines.join("\n")}\n`;
}

function renderHuman(o: Onboarding, cwd: string): string {
  const cfg = o.config ? path.relative(cwd, o.config) || o.config : "none";
  const lines = [`autosentry ${VERSION}: ${o.summary}`, `config: ${cfg}`, "", "Next:"];
  o.next.forEach((n, i) => {
    lines.push(`  ${i + 1}. ${n}`);
  });
  return `${lines.join("\n")}\n`;
}

/** What `autosentry onboard` does (its options are declared in src/cli/tree/onboard.ts). */
export function onboardCommand(
  opts: { forAgent?: boolean | undefined; json?: boolean | undefined } & ConfigFlag,
): void {
  const o = onboarding(process.cwd(), opts.config);
  if (opts.json) process.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
  else if (opts.forAgent || !process.stdout.isTTY) process.stdout.write(renderPlain(o));
  else process.stdout.write(renderHuman(o, process.cwd()));
}
