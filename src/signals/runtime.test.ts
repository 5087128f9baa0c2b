/**
 * The signals runtime wired to real detectors from a config: a fake nvidia-smi and a fake kernel
 * log on PATH, disk levels set relative to this filesystem's real usage, a heartbeat file, a probe
 * against a loopback server, series written to disk, and a checkpoint signal answered by a real
 * process.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { scratchDirs } from "../../tests/support/cli.ts";
import { resolveDetectorName } from "../config/detector-names.ts";
import { parseConfigText } from "../config/load.ts";
import type { Detection } from "../core/types.ts";
import { buildDetectors } from "../detectors/build.ts";
import type { Detector } from "../detectors/types.ts";
import { diskUsage } from "./disk.ts";
import { SignalRuntime } from "./runtime.ts";

const scratch = scratchDirs("autosentry-runtime-");

function setup(dir: string, yaml: string, env: Record<string, string | undefined> = process.env) {
  const c = parseConfigText(yaml, { file: "c.yaml", root: dir, env: {} }).data;
  const dets = buildDetectors(c.detectors);
  const names = c.detectors.map((d, i) => resolveDetectorName(d, i));
  const problems: string[] = [];
  const rt = new SignalRuntime({
    specs: c.detectors,
    detectorNames: names,
    detectors: new Map(dets.map((d) => [d.name, d])),
    cwd: dir,
    resume: c.process.resume,
    metricsDir: c.monitor.metrics_dir,
    metricsMaxPoints: c.monitor.metrics_max_points,
    env,
    onProblem: (m) => problems.push(m),
  });
  return { c, dets, rt, problems };
}

function tick(dets: Detector[], now = Date.now()): Detection[] {
  const out: Detection[] = [];
  for (const d of dets) {
    for (let x = d.observeTick?.(now, true, 1) ?? null; x !== null; x = d.takePending?.() ?? null)
      out.push(x);
  }
  return out;
}

describe("resources", () => {
  test("disk levels relative to the real usage of a real path: critical fires, warn-only does not", async () => {
    const dir = scratch();
    const used = (await diskUsage(dir)).percent;
    const { dets, rt } = setup(
      dir,
      `detectors:
  - kind: resource
    name: disk_hot
    resources: {disk: {paths: [data], warn_percent: ${Math.max(0, used - 2)}, critical_percent: ${Math.max(0, used - 1)}}}
  - kind: resource
    name: disk_ok
    resources: {disk: {paths: [data], warn_percent: ${Math.min(100, used + 3)}, critical_percent: 100}}
`,
    );
    for (const d of dets) d.onChildStart?.(1, Date.now());
    await rt.sampleAll();
    const ds = tick(dets);
    expect(ds.map((d) => [d.detector, d.meta["condition"], d.meta["subject"]])).toEqual([
      ["disk_hot", "critical", path.join(dir, "data")],
    ]);
    expect(ds[0]!.message).toMatch(/GiB free of/);
  });

  test("a fake nvidia-smi and kernel log: memory, ECC rise and a new Xid; a hanging one is timed out and reported once", async () => {
    const dir = scratch();
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const state = path.join(dir, "gpu-state");
    fs.writeFileSync(state, "0, Fake GPU, 79000, 81920, 97, 0\n");
    fs.writeFileSync(
      path.join(bin, "nvidia-smi"),
      `#!/bin/sh\n[ -f ${dir}/hang ] && exec sleep 30\ncat ${state}\n`,
      { mode: 0o755 },
    );
    const kmsg = path.join(dir, "kmsg");
    fs.writeFileSync(kmsg, "[1.0] NVRM: Xid (PCI:0000:01:00): 13, old one\n");
    fs.writeFileSync(path.join(bin, "fake-dmesg"), `#!/bin/sh\ncat ${kmsg}\n`, { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const { dets, rt, problems } = setup(
      dir,
      `detectors:
  - kind: resource
    name: gpu
    resources:
      timeout_seconds: 1
      gpu: {memory_percent: {warn: 95}, xid_command: [fake-dmesg]}
`,
      env,
    );
    dets[0]!.onChildStart?.(1, Date.now());
    await rt.sampleAll();
    let ds = tick(dets);
    expect(ds.map((d) => [d.meta["metric"], d.meta["condition"]])).toEqual([["gpu_memory", "warn"]]);
    expect(ds[0]!.message).toMatch(/79000 MiB of 81920 MiB, Fake GPU/);
    // an uncorrected ECC error and a new Xid
    fs.writeFileSync(state, "0, Fake GPU, 1000, 81920, 97, 2\n");
    fs.appendFileSync(kmsg, "[99.0] NVRM: Xid (PCI:0000:01:00): 79, pid=1, GPU has fallen off the bus.\n");
    await rt.sampleAll();
    ds = tick(dets);
    expect(ds.map((d) => [d.meta["metric"], d.meta["condition"]]).sort()).toEqual([
      ["gpu_ecc", "critical"],
      ["gpu_xid", "critical"],
    ]);
    expect(ds.find((d) => d.meta["metric"] === "gpu_xid")!.message).toMatch(/Xid 79/);
    // nvidia-smi hangs: timed out, reported once
    fs.writeFileSync(path.join(dir, "hang"), "");
    await rt.sampleAll();
    await rt.sampleAll();
    expect(problems.filter((p) => p.includes("nvidia-smi"))).toEqual([
      "sampler gpu nvidia-smi: timed out after 1s",
    ]);
  });

  test("without nvidia-smi on PATH the GPU section is skipped silently", async () => {
    const dir = scratch();
    const { rt, problems } = setup(
      dir,
      "detectors:\n  - kind: resource\n    resources: {gpu: {xid_command: []}}\n",
      {
        PATH: path.join(dir, "empty"),
      },
    );
    expect(rt.active).toBe(false);
    await rt.sampleAll();
    expect(problems).toEqual([]);
  });

  test("the child's tree RSS against a limit", async () => {
    // 64 KiB: below any live process (`sleep` is ~1 MB resident, too close to a 1 MB limit).
    const dir = scratch();
    const { dets, rt, problems } = setup(
      dir,
      "detectors:\n  - kind: resource\n    resources: {rss: {critical: 64KiB}, fds: {warn: 100000}}\n",
    );
    const p = Bun.spawn(["sleep", "30"]);
    try {
      // Sample the child once it is `sleep` (right after spawn it may still be the forked runtime).
      for (let i = 0; i < 100; i++) {
        if (fs.readlinkSync(`/proc/${p.pid}/exe`).endsWith("/sleep")) break;
        await Bun.sleep(50);
      }
      dets[0]!.onChildStart?.(1, Date.now());
      rt.setChild({ generation: 1, pid: p.pid, startedAt: Date.now() });
      // Up to three samplings: in about one full cold run (no transpiler cache) in three, the first
      // sampling right after the exec read no process tree although the child was alive and
      // sleeping (its stat and treeUsage read fine right after). The monitor samples every
      // interval, so one empty sampling costs one interval there; the cause is not yet known
      // (noted for an issue). The detection itself is still required.
      let ds: Detection[] = [];
      for (let attempt = 0; attempt < 3 && ds.length === 0; attempt++) {
        if (attempt > 0) await Bun.sleep(100);
        await rt.sampleAll();
        ds = tick(dets);
      }
      // The sampler's problems and the child's /proc state are compared too, so that a failure
      // says why.
      expect({
        detections: ds.map((d) => [d.meta["metric"], d.meta["condition"], d.meta["subject"]]),
        problems,
      }).toEqual({ detections: [["rss", "critical", "child"]], problems: [] });
    } catch (err) {
      let stat = "";
      try {
        stat = fs.readFileSync(`/proc/${p.pid}/stat`, "latin1");
      } catch (e) {
        stat = String(e);
      }
      const { treeUsage } = await import("./process-tree.ts");
      throw new Error(
        `${(err as Error).message}\nchild /proc/${p.pid}/stat: ${stat}\ntreeUsage now: ${JSON.stringify(treeUsage(p.pid))}\nrunners: ${JSON.stringify((rt as unknown as { runners: { name: string; counts: unknown }[] }).runners.map((r) => [r.name, r.counts]))}`,
      );
    } finally {
      p.kill("SIGKILL");
    }
  });
});

describe("liveness", () => {
  test("heartbeat file and sentinel directory, probe only while a child runs", async () => {
    const dir = scratch({ "run/.status": "FAILED\n", "run/.result": "{}" });
    let status = 503;
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("", { status }) });
    try {
      const { dets, rt } = setup(
        dir,
        `detectors:
  - kind: heartbeat
    heartbeat: {path: hb, sentinel_dir: run, max_age_seconds: 1, start_period_seconds: 0}
  - kind: probe
    probe: {http: "http://127.0.0.1:${server.port}/health", failure_threshold: 2}
`,
      );
      await rt.sampleAll(); // no child: the probe does not count
      const start = Date.now() - 10_000;
      for (const d of dets) d.onChildStart?.(1, start);
      rt.setChild({ generation: 1, pid: null, startedAt: start });
      // the .status was written before this child started (mtime now > start), so it is news
      await rt.sampleAll();
      await rt.sampleAll();
      const ds = tick(dets);
      expect(ds.map((d) => [d.detector, d.meta["condition"]]).sort()).toEqual([
        ["heartbeat", "failed"],
        ["heartbeat", "stale"],
        ["probe", "unhealthy"],
      ]);
      status = 200;
      fs.writeFileSync(path.join(dir, "hb"), "");
      await rt.sampleAll();
      expect(tick(dets)).toEqual([]);
    } finally {
      server.stop(true);
    }
  });
});

describe("metric series and checkpoints", () => {
  test("points go to .autosentry/metrics/<series>.jsonl on tick", () => {
    const dir = scratch();
    const { dets, rt } = setup(dir, "detectors:\n  - kind: metric\n    metric: {series: samples/s}\n");
    dets[0]!.observeLine("step=3 samples/s=12.5", "stdout", 1000, 1);
    rt.tick(1);
    const text = fs.readFileSync(path.join(dir, ".autosentry/metrics/samples_s.jsonl"), "utf8");
    expect(text).toBe('{"t":1000,"step":3,"v":12.5,"g":1}\n');
  });

  test("launch extras, steps lost, and a checkpoint signal answered by the job", async () => {
    const dir = scratch({ "ckpt/step-100.pt": "x" });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, "ckpt/step-100.pt"), old, old);
    const { rt } = setup(
      dir,
      `process:
  command: [x]
  resume: {glob: "ckpt/step-*.pt", arg_template: "--resume {checkpoint}", signal: SIGUSR1, signal_wait_seconds: 20, min_age_seconds: 0}
`,
    );
    expect(await rt.launchExtras(false)).toEqual({ env: {}, args: [], checkpoint: null });
    const x = await rt.launchExtras(true);
    const ck = path.join(dir, "ckpt/step-100.pt");
    expect(x.env).toEqual({ AUTOSENTRY_RESUME_FROM: ck });
    expect(x.args).toEqual(["--resume", ck]);
    rt.observeLine("step 130 loss=1");
    rt.observeLine("step 120 loss=1");
    expect(await rt.resumePoint()).toEqual({ checkpoint: ck, step: 100, last_step: 130, steps_lost: 30 });
    // a job that saves a checkpoint when it gets SIGUSR1
    const job = Bun.spawn(
      [
        "sh",
        "-c",
        `trap 'echo y > ${dir}/ckpt/step-140.pt; exit 0' USR1; echo ready; while :; do sleep 0.1; done`,
      ],
      { stdout: "pipe" },
    );
    const reader = job.stdout.getReader();
    await reader.read();
    const r = await rt.checkpointBeforeStop((sig) => {
      process.kill(job.pid, sig);
      return true;
    });
    expect(r.sent).toBe(true);
    expect(r.checkpoint?.step).toBe(140);
    job.kill("SIGKILL");
  });
});
