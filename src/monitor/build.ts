/**
 * @module
 * The composition root: builds a {@link Monitor} and everything it uses from a loaded config.
 * This is the one place that knows which implementation stands behind each seam.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveDetectorName } from "../config/detector-names.ts";
import type { LoadedConfig } from "../config/load.ts";
import { compileRegex } from "../config/regex.ts";
import type { ConfigData } from "../config/schema.ts";
import { readDotenv, secretEnvsOf } from "../config/secret-envs.ts";
import type { Stream, Trace } from "../core/types.ts";
import { buildDetectors } from "../detectors/build.ts";
import { DetectorSet } from "../detectors/set.ts";
import { BridgeNotifier } from "../dispatcher/bridge.ts";
import type { FixCommit } from "../fixes/capture.ts";
import { keepFix } from "../fixes/keep.ts";
import { appendAttempt, ledgerPath, updateAttempt } from "../fixes/ledger.ts";
import { openPullRequest } from "../fixes/pull-request.ts";
import { revertFix } from "../fixes/revert.ts";
import { parseActionBlock } from "../healers/agent/action-block.ts";
import { AgentHealer } from "../healers/agent/healer.ts";
import { childEnvironment } from "../healers/env-overlay.ts";
import { impliedRules } from "../healers/implied-rules.ts";
import { compileRules, RuleHealer } from "../healers/rules.ts";
import { fingerprint } from "../incidents/fingerprint.ts";
import type { FrameRenderer } from "../incidents/frames-section.ts";
import { IndexCache } from "../incidents/index-cache.ts";
import { indexPath } from "../incidents/read.ts";
import { FsIncidentStore } from "../incidents/store.ts";
import { Journal } from "../journal/journal.ts";
import { buildFanout } from "../notify/build.ts";
import { Fanout } from "../notify/fanout.ts";
import { createRedactor } from "../redact/redactor.ts";
import { drainSessionActions } from "../session/queue.ts";
import { SignalRuntime } from "../signals/runtime.ts";
import { AttachSupervisor } from "../supervisors/attach/attach.ts";
import { DockerSupervisor } from "../supervisors/docker/docker.ts";
import { LocalSupervisor } from "../supervisors/local/local.ts";
import { SlurmSupervisor } from "../supervisors/slurm/slurm.ts";
import type { Supervisor, SupervisorSink } from "../supervisors/types.ts";
import { DeferredSync } from "../util/deferred-sync.ts";
import { DiskFullGate, gatedLogger } from "../util/disk-full.ts";
import { FileLogger, type Logger } from "../util/logger.ts";
import { runCommand } from "../util/run-command.ts";
import { trimExecutablePages } from "../util/working-set.ts";
import { VaultWriter } from "../vault/writer.ts";
import { GarbagePolicy, jscCollector } from "./garbage.ts";
import { Monitor } from "./monitor.ts";
import { type MonitorPaths, monitorPaths } from "./paths.ts";
import {
  beginRun,
  continuesRun,
  emptyState,
  type MonitorState,
  readState,
  StateStore,
  tagStage,
} from "./state.ts";

export interface BuiltMonitor {
  monitor: Monitor;
  logger: FileLogger;
  state: StateStore;
  /** Set when an unreadable state.json was moved aside. */
  rotatedState: string | null;
}

/** Read state.json; an unparseable one is moved aside (`state.json.broken-<time>`) and replaced. */
/** state.json's env overlay (values a rule set earlier in this run), or null. */
function readOverlay(file: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, "utf8")) as { env_overlay?: unknown };
    return v.env_overlay && typeof v.env_overlay === "object"
      ? (v.env_overlay as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The highest generation of run `runId` any file remembers (0 when none): exit files in the run
 * directory, and the journal's last megabyte.
 */
function highestGeneration(paths: MonitorPaths, runId: string | null): number {
  let max = 0;
  try {
    for (const name of fs.readdirSync(paths.runDir)) {
      const m = /^exit-(\d+)\.json$/.exec(name);
      if (m) max = Math.max(max, Number(m[1]));
    }
  } catch {
    // no run directory yet
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(paths.journal, "r");
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 1024 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    for (const line of buf.toString("utf8").split("\n")) {
      if (runId === null || !line.includes(runId)) continue;
      const m = /"generation":(\d+)/.exec(line);
      if (m) max = Math.max(max, Number(m[1]));
    }
  } catch {
    // missing or unreadable: nothing to learn
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return max;
}

function loadOrRotateState(
  file: string,
  logger: FileLogger,
): { state: MonitorState; rotated: string | null } {
  try {
    return { state: readState(file) ?? emptyState(), rotated: null };
  } catch (err) {
    const rotated = `${file}.broken-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    fs.renameSync(file, rotated);
    logger.error(`${(err as Error).message}; moved it to ${rotated} and started with a fresh state`);
    return { state: emptyState(), rotated };
  }
}

/**
 * The incident store's frame renderer when `source_explode.enabled`: src/frames, imported on the
 * first trace (the tree-sitter runtime and each grammar load later still, on the first frame of
 * their language), so a monitor that never sees a trace never loads any of it.
 */
function sourceFrameRenderer(se: ConfigData["source_explode"]): FrameRenderer {
  return async ({ trace, cwd, maxFrames }) => {
    if (!trace) return { files: [], section: "" };
    const [{ explodeFrames }, { frameFiles, renderFramesSection }] = await Promise.all([
      import("../frames/explode.ts"),
      import("../frames/render.ts"),
    ]);
    const frames = await explodeFrames(javaBareFileNames(trace), {
      cwd,
      skipPaths: se.skip_paths,
      maxFrames,
      contextLines: se.context_lines,
      scopeWindowLines: se.scope_window_lines,
      languages: se.languages,
      git: true,
    });
    return { files: frameFiles(frames), section: renderFramesSection(frames) };
  };
}

/** The backend of `process.kind`, configured from `process.extra` and the monitor settings. */
export function createSupervisor(
  c: ConfigData,
  paths: MonitorPaths,
  sink: SupervisorSink,
  logger: Logger,
): Supervisor {
  const p = c.process;
  const x = p.extra;
  // Scheduler and docker queries see what the child would (e.g. SLURM_CONF, DOCKER_HOST in process.env).
  const env = childEnvironment(process.env, p.env, {});
  switch (p.kind) {
    case "slurm":
      return new SlurmSupervisor({
        sink,
        logger,
        maxLineLength: c.monitor.max_line_length,
        env,
        cwd: p.cwd,
        logPattern: x.log_pattern,
        statusCommand: x.status_command,
        cancelCommand: x.cancel_command,
        sacctCommand: x.sacct_command,
        signalScope: x.signal_scope,
        pollIntervalMs: x.poll_interval_seconds * 1000,
      });
    case "docker":
      return new DockerSupervisor({
        sink,
        logger,
        maxLineLength: c.monitor.max_line_length,
        env,
        cwd: p.cwd,
        containerName: x.container_name,
        logStreamCommand: x.log_stream_command,
        stopCommand: x.stop_command,
        removeCommand: x.remove_command,
        pollIntervalMs: c.monitor.poll_interval_seconds * 1000,
      });
    case "attach":
      return new AttachSupervisor({
        sink,
        logger,
        maxLineLength: c.monitor.max_line_length,
        pid: x.pid,
        pidFile: x.pid_file,
        logPath: x.log_path,
        allowKill: x.allow_kill,
      });
    default:
      return new LocalSupervisor({
        sink,
        logDir: paths.logDir,
        runDir: paths.runDir,
        maxLineLength: c.monitor.max_line_length,
        processLogMaxBytes: c.monitor.process_log_max_bytes,
        processLogBackups: c.monitor.process_log_backups,
        logger,
      });
  }
}

/**
 * The Java trace parser names a frame's file by its package path (`shop/Cart.java`), while the frame
 * resolver looks a Java file up under the usual source roots (`src/main/java/…`) only when the
 * frame names the bare file, as Java prints it (`Cart.java`). Hand it the bare name.
 */
function javaBareFileNames(trace: Trace): Trace {
  if (trace.language !== "java") return trace;
  return {
    ...trace,
    exceptions: trace.exceptions.map((e) => ({
      ...e,
      frames: e.frames.map((f) =>
        /^[\w$]+(?:\/[\w$]+)*\/[\w$]+\.java$/.test(f.file)
          ? { ...f, file: f.file.slice(f.file.lastIndexOf("/") + 1) }
          : f,
      ),
    })),
  };
}

/** Options for monitors that run a pipeline stage (src/pipeline). */
export interface BuildOptions {
  /**
   * The stage this monitor runs: it always begins a fresh run with `runId` (the pipeline's id,
   * never re-adopting a child of an earlier stage or run), and is tagged with the stage in
   * state.json (`stage`, `stage_index` 1-based, `stage_count`) and in its journal.
   */
  stage?: { runId: string; name: string; index: number; count: number };
  /** `run --follow`: every line of the job, as it is read, is also handed here (to the terminal). */
  echo?: (text: string, stream: Stream) => void;
}

/** Build the monitor for `cfg`. The caller holds the project lock. */
export function buildMonitor(cfg: LoadedConfig, version: string, opts: BuildOptions = {}): BuiltMonitor {
  const c = cfg.data;
  const paths = monitorPaths(c);
  fs.mkdirSync(paths.logDir, { recursive: true });
  fs.mkdirSync(paths.runDir, { recursive: true });
  const redactor = createRedactor({
    extraPatterns: c.redaction.extra_patterns.map((p) => compileRegex(p)),
    allow: c.redaction.allow,
    // Values of secret-named variables (the config's env; the monitor's own env is always added)
    // are hidden wherever they appear, also printed bare (issue 16, finding 8).
    secretEnvs: secretEnvsOf(c, readOverlay(paths.state), readDotenv(path.join(cfg.root, ".env"))),
  });
  const logger = new FileLogger(paths.monitorLog, { redact: (t) => redactor.redact(t) });
  // A full disk is logged and notified once, whichever writer meets it first (issue 16, finding
  // 9); the notifiers are built below, so a notice before then waits for them.
  let notifyFull: ((title: string, body: string) => void) | null = null;
  let fullBeforeNotifiers: [string, string] | null = null;
  const writeGate = new DiskFullGate({
    onFull: (m) => logger.error(m),
    notify: (title, body) => {
      if (notifyFull) notifyFull(title, body);
      else fullBeforeNotifiers = [title, body];
    },
    onSpaceBack: (m) => logger.log("RECOVERY", m),
  });
  logger.setGate(writeGate);
  const { state, rotated } = loadOrRotateState(paths.state, logger);
  const stage = opts.stage;
  const continuing = stage ? false : continuesRun(state);
  // Within a run, generation numbers are never reused, even when state.json could not be written
  // (a full disk, issue 16 finding 9): the journal and the exit files remember the highest one.
  if (continuing) state.generation = Math.max(state.generation, highestGeneration(paths, state.run_id));
  if (!continuing) beginRun(state, stage?.runId ?? crypto.randomUUID().replace(/-/g, ""));
  // A single-process run after a pipeline: no stage (a continued run keeps what it had).
  if (stage || !continuing) tagStage(state, stage ?? null);
  const store = new StateStore(paths.state, state, logger, c.monitor.heartbeat_seconds * 1000, writeGate);
  // Journal lines and incident files are fsynced right after the restart is issued, not before
  // (issue 13; docs/reliability.md "Durability").
  const durability = new DeferredSync(200, 100, (m) => logger.error(`Cannot make files durable: ${m}`));
  const journal = new Journal(paths.journal, {
    runId: state.run_id ?? "",
    stage: stage?.name ?? null,
    onError: (m) => logger.error(`Cannot write the journal: ${m}`),
    redact: (v) => redactor.redactJson(v),
    gate: writeGate,
    durability,
  });
  // One in-memory copy of index.jsonl for the incident store and the vault (one entry per incident each, before).
  const incidentIndex = new IndexCache(indexPath(paths.incidents));
  if (c.vault.enabled) {
    const vault = new VaultWriter({
      index: incidentIndex,
      root: c.vault.path,
      incidentsDir: paths.incidents,
      patternThreshold: c.vault.pattern_threshold,
      redact: (t) => redactor.redact(t),
      logger: gatedLogger(logger, writeGate, "the vault"),
      process: { kind: c.process.kind, cwd: c.process.cwd },
    });
    journal.listen((record) => vault.onRecord(record));
  }
  const incidents = new FsIncidentStore({
    dir: paths.incidents,
    index: incidentIndex,
    logger: gatedLogger(logger, writeGate, "an incident folder"),
    redact: (t) => redactor.redact(t),
    redactJson: (v) => redactor.redactJson(v),
    redactVersion: () => redactor.learned(),
    maxFrames: c.source_explode.max_frames,
    renderFrames: c.source_explode.enabled ? sourceFrameRenderer(c.source_explode) : undefined,
    processEnv: c.process.env,
    durability,
    // the next incident's folder is prepared here (issue 13; FsIncidentStore.create)
    stagingDir: paths.runDir,
  });
  // Folders a killed monitor left half-written are completed before this one writes any (the
  // first new incident needs a child to start and fail first; this takes milliseconds).
  void incidents.completeInterrupted().catch((err: unknown) => {
    logger.warn(`Cannot complete interrupted incidents: ${(err as Error).message}`);
  });
  const notifier = buildFanout(c.notifiers, {
    logger,
    project: path.basename(cfg.root),
    root: cfg.root,
    redact: (t) => redactor.redact(t),
    publicUrl: c.web.public_url,
  });
  // dispatch.bridge: the chat dispatcher runs inside the monitor, after the outbox notifier.
  const fanout = c.dispatch.bridge
    ? new Fanout([...notifier.notifiers, new BridgeNotifier(cfg, logger, (t) => redactor.redact(t))], logger)
    : notifier;
  notifyFull = (title, body) => fanout.notify({ kind: "anomaly", title, body, incident_id: null });
  // (assigned in the gate's callback: tsc cannot see it)
  const early = fullBeforeNotifiers as [string, string] | null;
  if (early !== null) notifyFull(early[0], early[1]);
  // the signature pack (on by default): names detections and catches failures without a traceback
  const detectorList = buildDetectors(c.detectors, c.signatures);
  const detectors = new DetectorSet(detectorList);
  // issue 11: samplers, probes, metric series and checkpoints
  const signals = new SignalRuntime({
    specs: c.detectors,
    detectorNames: c.detectors.map((d, i) => resolveDetectorName(d, i)),
    detectors: new Map(detectorList.map((d) => [d.name, d])),
    cwd: c.process.cwd,
    resume: c.process.resume,
    metricsDir: c.monitor.metrics_dir,
    metricsMaxPoints: c.monitor.metrics_max_points,
    env: process.env,
    onProblem: (message, recovered) => {
      if (recovered) logger.info(message);
      else logger.warn(message);
      journal.write(recovered ? "sampler_recovered" : "sampler_failed", { message });
    },
  });
  const healingMode =
    c.dispatch.mode === "session" || c.healing.claude.mode === "session" ? "session" : "builtin";
  let monitorRef: Monitor | null = null;
  const agent = new AgentHealer({
    config: c,
    root: cfg.root,
    logger,
    redact: (t) => redactor.redact(t),
    onDisabled: (reason, kind) => monitorRef?.disableAgent(reason, kind),
  });
  logger.info(`healing: rules${agent.active ? ` then the agent (${agent.mode})` : ""} — ${agent.why}`);
  const seenSessionIds = new Set<string>();
  const monitor = new Monitor({
    config: c,
    configPath: cfg.path,
    echo: opts.echo ?? null,
    version,
    logger,
    // The capture process reports its own write failures as warnings: a full disk among them is the gate's.
    createSupervisor: (sink) =>
      createSupervisor(
        c,
        paths,
        sink,
        gatedLogger(logger, writeGate, "process.log or an exit file (capture process)"),
      ),
    detectors,
    // a detector's `action:` implies a rule tried after the user's own
    rules: new RuleHealer([...compileRules(c.rules), ...impliedRules(c.detectors)]),
    agent: agent.active ? agent : null,
    healingMode,
    sessionMarker: c.dispatch.request_marker,
    sessionQueue:
      healingMode === "session"
        ? {
            drain: () =>
              drainSessionActions(
                c.dispatch.action_queue_path,
                c.dispatch.action_cursor_path,
                seenSessionIds,
              ),
          }
        : null,
    fixes: {
      keep: async (fix, autoMerge) => (await keepFix(fix as FixCommit, { autoMerge })).reason,
      revert: async (fix) => {
        const r = await revertFix(fix as FixCommit);
        if (!r.ok) {
          throw new Error(
            `conflicts in ${r.conflicts.map((x) => `${x.path} (${x.reason})`).join(", ")}; nothing was changed`,
          );
        }
        return `${r.reverted.length} file(s) restored${r.alreadyReverted.length ? `, ${r.alreadyReverted.length} already back` : ""}`;
      },
      openPullRequest: async (fix, incidentId) => {
        const gh = c.healing.github;
        const token = process.env[gh.token_env];
        if (!token) throw new Error(`${gh.token_env} is not set`);
        const reportFile = path.join(paths.incidents, incidentId, "report.md");
        const body = fs.existsSync(reportFile)
          ? fs.readFileSync(reportFile, "utf8")
          : `Incident ${incidentId}`;
        const pr = await openPullRequest(fix as FixCommit, {
          remote: gh.remote,
          apiUrl: gh.api_url,
          token,
          repo: gh.repo,
          title: `autosentry: fix for incident ${incidentId}`,
          body,
          userAgent: `autosentry/${version}`,
        });
        return pr.url;
      },
    },
    ledger: {
      append: (a) => {
        // The description is the detection's message: it passes the redactor like every other
        // file autosentry writes (a secret in an exception message leaked here; issue 16).
        appendAttempt(ledgerPath(cfg.root), {
          ...a,
          description: redactor.redact(a.description),
          status: "pending",
        });
      },
      update: (id, source, status, seconds) => {
        updateAttempt(ledgerPath(cfg.root), id, source, { status, duration_seconds: seconds });
      },
    },
    store: incidents,
    notifier: fanout,
    journal,
    durability,
    // Collections after incident cycles, so a crash loop's resident size stays flat, and the
    // executable's clean pages given back once quiet (garbage.ts).
    garbage: new GarbagePolicy(jscCollector, Date.now(), () => void trimExecutablePages()),
    state: store,
    controlFile: paths.control,
    fingerprint,
    runCommand: (argv, opts) => runCommand(argv, opts),
    parseActionBlock: (text) => parseActionBlock(text).action,
    redact: (t) => redactor.redact(t),
    learnSecrets: (env) => redactor.learn(env),
    continuing,
    signals: signals.active ? signals : null,
    writeGate,
  });
  monitorRef = monitor;
  return { monitor, logger, state: store, rotatedState: rotated };
}
