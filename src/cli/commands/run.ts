/**
 * @module
 * `autosentry run [--check]`: supervise the configured command in the foreground until it
 * completes or autosentry gives up. `--check` only runs the launch preflight.
 *
 * Exit code: 0 when the child completed, the child's own code when autosentry stops because of it,
 * 1 when autosentry gave up, 126 when the preflight fails, 130 on operator abort, 128+N on signal N.
 *
 * With `process.stages` the pipeline controller (src/pipeline) runs the stages in order;
 * `--resume` continues the last run and `--from-stage NAME` starts at a stage, skipping only stages
 * completed with an unchanged fingerprint. A pipeline exits with the failed stage's code (0 when
 * all completed), 124 when a stage passed its deadline, 126 when a stage could not launch.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedConfig } from "../../config/load.ts";
import type { Stream } from "../../core/types.ts";
import { childEnvironment } from "../../healers/env-overlay.ts";
import { buildMonitor } from "../../monitor/build.ts";
import { acquireLock, LockHeldError } from "../../monitor/lock.ts";
import { monitorPaths } from "../../monitor/paths.ts";
import { checkLaunch } from "../../monitor/preflight.ts";
import { readState } from "../../monitor/state.ts";
import { PlanError, runPipeline } from "../../pipeline/runner.ts";
import { stagePreflight } from "../../pipeline/stage-config.ts";
import { isDockerCli } from "../../supervisors/docker/run-args.ts";
import { isSbatch } from "../../supervisors/slurm/submit.ts";
import { scriptOf } from "../../util/interpreter-script.ts";
import { loadConfigIsolated } from "../config-isolated.ts";
import { CliExit, EXIT } from "../exit.ts";
import { keepRunningOnOutputErrors } from "../output-errors.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";
import { VERSION } from "../version.ts";

/**
 * The program the backend runs for `command`: sbatch for a bare batch script (slurm), the docker
 * CLI for an image and its command (docker). The backend checks the script or image itself.
 */
function launcherCommand(kind: string, command: string[]): string[] {
  const argv0 = command[0];
  if (argv0 === undefined) return command;
  if (kind === "slurm" && !isSbatch(argv0)) return ["sbatch"];
  if (kind === "docker" && !isDockerCli(argv0)) return ["docker"];
  return command;
}

/**
 * A script handed to a known interpreter must exist, or the child fails on every launch (issue 14
 * item 2: `python train.py` passed the check because only `python` was looked for).
 */
export function scriptProblems(command: string[], cwd: string): string[] {
  const found = scriptOf(command);
  if (!found || fs.existsSync(path.resolve(cwd, found.script))) return [];
  return [`Script not found: '${found.script}' (${found.interpreter} would fail: no such file in ${cwd})`];
}

/** Launch preflight for the configured process; returns the problems found. */
export function preflight(cfg: LoadedConfig): string[] {
  const p = cfg.data.process;
  const script = p.kind === "local" ? scriptProblems(p.command, p.cwd) : [];
  return [
    ...script,
    ...checkLaunch({
      command: launcherCommand(p.kind, p.command),
      cwd: p.cwd,
      env: childEnvironment(process.env, p.env, {}),
      requiredExecutables: p.required_executables,
      requiredEnv: p.required_env,
      checkCommand: p.kind !== "attach",
    }),
  ];
}

function unsupported(cfg: LoadedConfig, opts: { resume?: boolean; fromStage?: string }): string | null {
  const p = cfg.data.process;
  if (p.stages.length === 0 && (opts.resume || opts.fromStage))
    return "--resume and --from-stage apply to pipelines (process.stages)";
  if (p.stages.length > 0 && p.kind !== "local")
    return `process.stages (pipelines) run local stages only; process.kind is ${p.kind}`;
  return null;
}

/** `run` for a pipeline (process.stages): `--check` checks every stage; else the controller runs them. */
/**
 * A durable pause outlives the monitor that took it: a project paused yesterday waits today. Say
 * so loudly, before anything else, so that a waiting `run` is never a mystery.
 */
function pausedNotice(cfg: LoadedConfig): string | null {
  let st: ReturnType<typeof readState> = null;
  try {
    st = readState(monitorPaths(cfg.data).state);
  } catch {
    return null;
  }
  if (st?.desired !== "paused") return null;
  return `PAUSED: this project was paused (since ${st.paused_at ?? "?"} by ${st.paused_by ?? "?"}); the job will not start until \`autosentry resume\``;
}

/** Where the job's output goes, said once at start: a foreground monitor prints only its own lines. */
function outputNotice(cfg: LoadedConfig, follow: boolean): string {
  const p = cfg.data.process;
  const rel = (f: string) => path.relative(process.cwd(), f) || f;
  let where: string;
  if (p.kind === "slurm") where = "its SLURM output file (sbatch --output), followed by the monitor";
  else if (p.kind === "docker") where = "the container's log (`docker logs`), followed by the monitor";
  else if (p.kind === "attach") where = "the log file it writes, followed by the monitor";
  else where = rel(path.join(monitorPaths(cfg.data).logDir, "process.log"));
  return follow
    ? `the job's output is echoed below and kept in ${where}`
    : `the job's output goes to ${where} (\`autosentry run --follow\` echoes it here)`;
}

/** `--follow`: a line of the job, to the stream it was written on. */
function echoLine(text: string, stream: Stream): void {
  try {
    (stream === "stderr" ? process.stderr : process.stdout).write(`${text}\n`);
  } catch {
    // a closed terminal must not disturb supervision (see output-errors.ts)
  }
}

async function runStages(
  cfg: LoadedConfig,
  opts: { check?: boolean; resume?: boolean; fromStage?: string },
): Promise<void> {
  const p = cfg.data.process;
  if (opts.check) {
    const errors = p.stages.flatMap((s) =>
      [...scriptProblems(s.command, path.resolve(p.cwd, s.cwd ?? ".")), ...stagePreflight(p, s)].map(
        (e) => `stage '${s.name}': ${e}`,
      ),
    );
    if (errors.length > 0) {
      for (const e of errors) process.stderr.write(`${e}\n`);
      throw new CliExit(EXIT.preflight);
    }
    process.stdout.write("All launch requirements passed\n");
    return;
  }
  let lock: { release: () => void };
  try {
    lock = acquireLock(monitorPaths(cfg.data).lock);
  } catch (err) {
    if (err instanceof LockHeldError) throw new CliExit(EXIT.failure, `autosentry run: ${err.message}`);
    throw err;
  }
  try {
    process.exitCode = await runPipeline(cfg, {
      resume: opts.resume,
      fromStage: opts.fromStage,
      version: VERSION,
    });
  } catch (err) {
    if (err instanceof PlanError) throw new CliExit(EXIT.usage, `autosentry run: ${err.message}`);
    throw err;
  } finally {
    lock.release();
  }
}

/** `run`'s options. */
interface RunCliOptions extends ConfigFlag {
  check?: boolean | undefined;
  follow?: boolean | undefined;
  resume?: boolean | undefined;
  fromStage?: string | undefined;
}

/** What `autosentry run` does (its options are declared in src/cli/tree/run.ts). */
export async function runCommand(opts: RunCliOptions): Promise<void> {
  const cfg = await loadConfigIsolated(opts);
  const problem = unsupported(cfg, opts);
  if (problem) throw new CliExit(EXIT.usage, `autosentry run: ${problem}`);
  if (!opts.check) keepRunningOnOutputErrors();
  if (cfg.data.process.stages.length > 0) return runStages(cfg, opts);
  const errors = preflight(cfg);
  if (opts.check) {
    if (errors.length > 0) {
      for (const e of errors) process.stderr.write(`${e}\n`);
      throw new CliExit(EXIT.preflight);
    }
    process.stdout.write("All launch requirements passed\n");
    const paused = pausedNotice(cfg);
    if (paused) process.stdout.write(`${paused}\n`);
    return;
  }
  if (errors.length > 0) {
    for (const e of errors) process.stderr.write(`${e}\n`);
    throw new CliExit(EXIT.preflight, "autosentry run: preflight failed; nothing was launched");
  }
  const paused = pausedNotice(cfg);
  if (paused) process.stderr.write(`${paused}\n`);
  const paths = monitorPaths(cfg.data);
  let lock: { release: () => void };
  try {
    lock = acquireLock(paths.lock);
  } catch (err) {
    if (err instanceof LockHeldError) throw new CliExit(EXIT.failure, `autosentry run: ${err.message}`);
    throw err;
  }
  try {
    process.stdout.write(`${outputNotice(cfg, opts.follow === true)}\n`);
    const built = buildMonitor(cfg, VERSION, opts.follow ? { echo: echoLine } : {});
    const code = await built.monitor.run();
    built.logger.close();
    process.exitCode = code;
  } finally {
    lock.release();
  }
}
