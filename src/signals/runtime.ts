/**
 * @module
 * The signals of issue 11 at run time: the samplers and probes that feed the resource, heartbeat,
 * probe and completion detectors on their own intervals, the on-disk metric series, the last step
 * the job reported, and checkpoint-aware launches and stops. The monitor owns one and calls it at a
 * handful of points (start/stop, a line, a tick, a launch, a stop); everything else happens here.
 *
 * Detectors are reached through small structural interfaces (the methods they expose for readings),
 * so this layer does not import the detectors layer. Every sampler runs through a
 * {@link SamplerRunner}: timed out, never overlapping itself, a failure reported once.
 */
import * as path from "node:path";
import { compileRegex } from "../config/regex.ts";
import type { DetectorSpec, ResumeSpec } from "../config/schema.ts";
import type { ResourceReading, SeriesPoint } from "../core/types.ts";
import { runCommand } from "../util/run-command.ts";
import { type Checkpoint, type CheckpointQuery, newestCheckpoint, resumeArgs } from "./checkpoints.ts";
import { diskUsage } from "./disk.ts";
import { gpuQueryArgv, parseGpuCsv, parseXidLines } from "./gpu.ts";
import { memAvailable } from "./meminfo.ts";
import { httpProbe, parseHostPort, tcpProbe } from "./probes.ts";
import { treeUsage } from "./process-tree.ts";
import { SamplerRunner } from "./run-sampler.ts";
import { fileMtime, readSentinels } from "./sentinel-files.ts";
import { SeriesStore } from "./series-store.ts";

/** What a resource detector accepts. */
export interface ReadingSink {
  observeReading(r: ResourceReading): void;
}
/** What a heartbeat detector accepts. */
export interface HeartbeatSink {
  observeHeartbeat(mtimeMs: number | null): void;
  observeStatus(status: string | null, statusMs: number | null, result: string | null, at: number): void;
}
/** What a probe detector accepts. */
export interface ProbeSink {
  observeProbe(ok: boolean, detail: string, at: number): void;
}
/** What a completion detector accepts. */
export interface MarkerFileSink {
  observeMarkerFile(mtimeMs: number | null, at: number): void;
}
/** What a metric detector offers. */
export interface PointSource {
  readonly metric: string;
  takePoints(): SeriesPoint[];
}

/** The current child, as far as sampling cares. */
export interface ChildInfo {
  generation: number;
  /** The workload's pid (RSS and fds are summed over its tree); null when unknown (SLURM, docker). */
  pid: number | null;
  startedAt: number;
}

export interface SignalRuntimeOptions {
  specs: DetectorSpec[];
  /** Detector by name (the names resolveDetectorName gives, in spec order). */
  detectorNames: string[];
  detectors: ReadonlyMap<string, unknown>;
  /** process.cwd, absolute: where the resume glob is read. */
  cwd: string;
  resume: ResumeSpec | undefined;
  metricsDir: string;
  metricsMaxPoints: number;
  /** PATH and the rest, for nvidia-smi and the Xid command. */
  env: Record<string, string | undefined>;
  /** A sampler failed (once until it recovers) or recovered. */
  onProblem(message: string, recovered: boolean): void;
  now?: () => number;
}

/** Where the next run resumes (also written into incidents and shown by status). */
export interface ResumePoint {
  checkpoint: string | null;
  step: number | null;
  last_step: number | null;
  steps_lost: number | null;
}

/** `1.5 GiB`, `512 MiB`: bytes for people. */
export function humanBytes(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = b;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`;
}

const STEP_KEY = /(?:^|[^\w./-])["']?(?:global_step|step|iter|iteration)["']?\s*[=:]?\s*(\d+)/;

export class SignalRuntime {
  private readonly runners: SamplerRunner<unknown>[] = [];
  private readonly points: PointSource[] = [];
  private readonly store: SeriesStore;
  private child: ChildInfo | null = null;
  private readonly now: () => number;
  private readonly resumeQuery: CheckpointQuery | null;
  /** The highest step number seen in the current child's lines (when resume is configured). */
  lastStep: number | null = null;

  constructor(private readonly o: SignalRuntimeOptions) {
    this.now = o.now ?? Date.now;
    this.store = new SeriesStore(o.metricsDir, o.metricsMaxPoints);
    const r = o.resume;
    this.resumeQuery = r
      ? {
          glob: r.glob,
          cwd: o.cwd,
          stepRegex: r.step_regex !== undefined ? compileRegex(r.step_regex) : null,
          completeMarker: r.complete_marker ?? null,
          minAgeMs: r.min_age_seconds * 1000,
        }
      : null;
    o.specs.forEach((spec, i) => {
      const name = o.detectorNames[i]!;
      this.wire(spec, name, o.detectors.get(name));
    });
  }

  /** True when anything needs the runtime (the monitor skips the calls otherwise). */
  get active(): boolean {
    return this.runners.length > 0 || this.points.length > 0 || this.resumeQuery !== null;
  }

  private runner<T>(
    name: string,
    intervalS: number,
    timeoutS: number,
    sample: () => Promise<T>,
    onSample: (v: T, at: number) => void,
  ): void {
    const r = new SamplerRunner<T>(
      name,
      sample,
      intervalS * 1000,
      timeoutS * 1000,
      {
        onSample,
        onFailure: (e) => this.o.onProblem(`sampler ${e}`, false),
        onRecovery: () => this.o.onProblem(`sampler ${name} works again`, true),
      },
      this.now,
    );
    this.runners.push(r as SamplerRunner<unknown>);
  }

  private wire(spec: DetectorSpec, name: string, det: unknown): void {
    if (det === undefined) return;
    switch (spec.kind) {
      case "metric":
        this.points.push(det as PointSource);
        return;
      case "resource":
        this.wireResources(spec, name, det as ReadingSink);
        return;
      case "heartbeat": {
        const h = spec.heartbeat!;
        const sink = det as HeartbeatSink;
        this.runner(
          `${name} heartbeat`,
          h.interval_seconds,
          Math.max(1, h.interval_seconds),
          async () => {
            const beat = h.path !== undefined ? await fileMtime(h.path) : null;
            const sentinel = h.sentinel_dir !== undefined ? await readSentinels(h.sentinel_dir) : null;
            return { beat, sentinel };
          },
          (v, at) => {
            const beats = [v.beat, v.sentinel?.heartbeatMs ?? null].filter((x): x is number => x !== null);
            sink.observeHeartbeat(beats.length > 0 ? Math.max(...beats) : null);
            if (v.sentinel) sink.observeStatus(v.sentinel.status, v.sentinel.statusMs, v.sentinel.result, at);
          },
        );
        return;
      }
      case "probe": {
        const p = spec.probe!;
        const sink = det as ProbeSink;
        const tcp = p.tcp !== undefined ? parseHostPort(p.tcp) : null;
        const timeoutMs = p.timeout_seconds * 1000;
        this.runner(
          `${name} probe`,
          p.interval_seconds,
          p.timeout_seconds + 1,
          async () => {
            if (this.child === null) return null; // nothing to probe between children
            return tcp ? tcpProbe(tcp.host, tcp.port, timeoutMs) : httpProbe(p.http!, timeoutMs);
          },
          (r, at) => {
            if (r !== null && this.child !== null) sink.observeProbe(r.ok, r.detail, at);
          },
        );
        return;
      }
      case "completion": {
        const c = spec.completion!;
        if (c.marker_file === undefined) return;
        const file = c.marker_file;
        const sink = det as MarkerFileSink;
        this.runner(
          `${name} marker file`,
          c.interval_seconds,
          Math.max(1, c.interval_seconds),
          () => fileMtime(file),
          (m, at) => sink.observeMarkerFile(m, at),
        );
        return;
      }
      default:
        return;
    }
  }

  private wireResources(spec: DetectorSpec, name: string, sink: ReadingSink): void {
    const r = spec.resources!;
    const wantHost =
      r.disk !== undefined || r.memory !== undefined || r.rss !== undefined || r.fds !== undefined;
    if (wantHost) {
      this.runner(
        `${name} host`,
        r.interval_seconds,
        r.timeout_seconds,
        async () => {
          const out: Omit<ResourceReading, "at">[] = [];
          for (const p of r.disk?.paths ?? []) {
            const u = await diskUsage(p);
            out.push({
              resource: "disk",
              subject: p,
              value: u.percent,
              detail: `${humanBytes(u.availableBytes)} free of ${humanBytes(u.totalBytes)}`,
            });
          }
          if (r.memory) out.push({ resource: "memory", subject: "host", value: await memAvailable() });
          const child = this.child;
          if ((r.rss || r.fds) && child?.pid) {
            const t = treeUsage(child.pid);
            if (t.processes > 0) {
              const detail = `${t.processes} process(es) in the tree of pid ${child.pid}`;
              if (r.rss) out.push({ resource: "rss", subject: "child", value: t.rssBytes, detail });
              if (r.fds) out.push({ resource: "fds", subject: "child", value: t.fds, detail });
            }
          }
          return out;
        },
        (readings, at) => {
          for (const x of readings) sink.observeReading({ ...x, at });
        },
      );
    }
    const g = r.gpu;
    if (!g) return;
    const exe = Bun.which(g.command, { PATH: this.o.env["PATH"] ?? "" });
    // No nvidia-smi: no GPU to watch (documented: GPU checks are skipped silently then).
    if (exe === null) return;
    const env = this.o.env;
    const eccBase = new Map<number, number>();
    this.runner(
      `${name} nvidia-smi`,
      g.interval_seconds,
      r.timeout_seconds,
      async () => {
        const res = await runCommand(gpuQueryArgv(exe), {
          cwd: this.o.cwd,
          env,
          timeoutMs: r.timeout_seconds * 1000,
          maxOutputBytes: 65536,
        });
        if (res.timedOut) throw new Error(`timed out after ${r.timeout_seconds}s`);
        if (res.error) throw new Error(res.error);
        if (res.exitCode !== 0)
          throw new Error(`exit ${res.exitCode ?? res.signal}: ${res.output.trim().slice(0, 200)}`);
        return parseGpuCsv(res.stdout);
      },
      (gpus, at) => {
        for (const gpu of gpus) {
          const subject = String(gpu.index);
          if (gpu.memoryUsedMiB !== null && gpu.memoryTotalMiB) {
            sink.observeReading({
              resource: "gpu_memory",
              subject,
              value: (100 * gpu.memoryUsedMiB) / gpu.memoryTotalMiB,
              at,
              detail: `${gpu.memoryUsedMiB} MiB of ${gpu.memoryTotalMiB} MiB, ${gpu.name}`,
            });
          }
          if (gpu.utilizationPercent !== null) {
            sink.observeReading({
              resource: "gpu_util",
              subject,
              value: gpu.utilizationPercent,
              at,
              detail: gpu.name,
            });
          }
          if (gpu.eccUncorrected !== null) {
            // new errors since the previous reading (the first reading is the baseline)
            const before = eccBase.get(gpu.index) ?? gpu.eccUncorrected;
            eccBase.set(gpu.index, gpu.eccUncorrected);
            const fresh = gpu.eccUncorrected - before;
            sink.observeReading({
              resource: "gpu_ecc",
              subject,
              value: fresh,
              at,
              detail: `${gpu.eccUncorrected} volatile uncorrected ECC errors, ${gpu.name}`,
            });
          }
        }
      },
    );
    if (g.xid_command.length === 0) return;
    const seen = new Set<string>();
    let baseline = true;
    const xidArgv = [...g.xid_command];
    this.runner(
      `${name} xid`,
      g.interval_seconds,
      r.timeout_seconds,
      async () => {
        const res = await runCommand(xidArgv, {
          cwd: this.o.cwd,
          env,
          timeoutMs: r.timeout_seconds * 1000,
          maxOutputBytes: 4 * 1024 * 1024,
        });
        if (res.timedOut) throw new Error(`timed out after ${r.timeout_seconds}s`);
        if (res.error) throw new Error(res.error);
        if (res.exitCode !== 0)
          throw new Error(`exit ${res.exitCode ?? res.signal}: ${res.output.trim().slice(0, 200)}`);
        return parseXidLines(res.stdout);
      },
      (xids, at) => {
        // Xid lines already in the kernel log when the monitor started are history, not news.
        const fresh = xids.filter((x) => !seen.has(x.line));
        for (const x of xids) seen.add(x.line);
        if (baseline) {
          baseline = false;
          return;
        }
        const last = fresh[fresh.length - 1];
        sink.observeReading({
          resource: "gpu_xid",
          subject: last?.pci ?? "all",
          value: fresh.length,
          at,
          detail: last ? `Xid ${last.code}: ${last.line}` : undefined,
        });
      },
    );
  }

  /** Start every sampler (each runs once at once, then on its interval). */
  start(): void {
    for (const r of this.runners) r.start(0);
  }

  stop(): void {
    for (const r of this.runners) r.stop();
  }

  /** Run every sampler once now and wait for them (tests, and the benchmark's warm-up). */
  async sampleAll(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.runOnce()));
  }

  /** A new child runs (or, with null, none does). */
  setChild(child: ChildInfo | null): void {
    this.child = child;
    if (child !== null) this.lastStep = null;
  }

  /** True when {@link observeLine} reads lines (checkpoints are configured): the bytes ingest path is then off. */
  get wantsLines(): boolean {
    return this.resumeQuery !== null;
  }

  /** One line of the current child (cheap: only read when checkpoints are configured). */
  observeLine(text: string): void {
    if (this.resumeQuery === null) return;
    if (!text.includes("step") && !text.includes("iter")) return;
    const m = STEP_KEY.exec(text);
    if (!m) return;
    const v = Number(m[1]);
    if (this.lastStep === null || v > this.lastStep) this.lastStep = v;
  }

  /** About once a second: the metric detectors' new points go to their series files. */
  tick(generation: number): void {
    for (const src of this.points) {
      const pts = src.takePoints();
      if (pts.length > 0) {
        try {
          this.store.append(src.metric, pts, generation);
        } catch (err) {
          this.o.onProblem(
            `metric series ${src.metric}: cannot write ${path.join(this.o.metricsDir, src.metric)}: ${(err as Error).message}`,
            false,
          );
        }
      }
    }
  }

  /** The newest complete checkpoint (null without process.resume, or with none yet). */
  async newestCheckpoint(): Promise<Checkpoint | null> {
    if (this.resumeQuery === null) return null;
    return newestCheckpoint(this.resumeQuery, this.now());
  }

  /** Where the next run resumes, with the steps the failed run will redo. */
  async resumePoint(): Promise<ResumePoint | null> {
    if (this.resumeQuery === null) return null;
    const c = await this.newestCheckpoint();
    const step = c?.step ?? null;
    const last = this.lastStep;
    return {
      checkpoint: c?.path ?? null,
      step,
      last_step: last,
      steps_lost: c !== null && step !== null && last !== null ? Math.max(0, last - step) : null,
    };
  }

  /**
   * What a launch adds: `AUTOSENTRY_RESUME_FROM` and the argument template when a complete
   * checkpoint exists. `resume` false (the first launch of a fresh run) adds nothing: a new run
   * must not pick up an old experiment's checkpoints by surprise.
   */
  async launchExtras(
    resume: boolean,
  ): Promise<{ env: Record<string, string>; args: string[]; checkpoint: Checkpoint | null }> {
    const r = this.o.resume;
    if (!r || !resume) return { env: {}, args: [], checkpoint: null };
    const c = await this.newestCheckpoint();
    if (c === null) return { env: {}, args: [], checkpoint: null };
    return {
      env: { AUTOSENTRY_RESUME_FROM: c.path },
      args: resumeArgs(r.arg_template, c.path),
      checkpoint: c,
    };
  }

  /**
   * Before a graceful stop: send `process.resume.signal` to the group and wait (up to
   * `signal_wait_seconds`) for a complete checkpoint newer than the newest one now. Resolves with
   * the new checkpoint, or null (no signal configured, none came, or the group is gone).
   */
  async checkpointBeforeStop(
    signal: (sig: NodeJS.Signals) => boolean | Promise<boolean>,
  ): Promise<{ sent: boolean; checkpoint: Checkpoint | null }> {
    const r = this.o.resume;
    if (!r?.signal || this.resumeQuery === null) return { sent: false, checkpoint: null };
    const before = await this.newestCheckpoint();
    if (!(await signal(r.signal as NodeJS.Signals))) return { sent: false, checkpoint: null };
    const deadline = this.now() + r.signal_wait_seconds * 1000;
    while (this.now() < deadline) {
      await Bun.sleep(Math.min(500, Math.max(0, deadline - this.now())));
      const c = await this.newestCheckpoint();
      if (c !== null && (before === null || c.path !== before.path || c.mtimeMs > before.mtimeMs)) {
        return { sent: true, checkpoint: c };
      }
    }
    return { sent: true, checkpoint: null };
  }
}
