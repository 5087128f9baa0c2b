/**
 * End-to-end (issue 11): training metrics, heartbeats, health probes, completion, resources and
 * checkpoint-aware restarts, through dist/autosentry with real jobs. The disk test fills a real
 * tmpfs mounted in the project (the tests run as root, as the SLURM and podman ones do); the GPU
 * test puts a fake `nvidia-smi` on PATH (these machines have no GPU).
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import {
  alive,
  incidentIds,
  journal,
  makeProject,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

const COUNTER = `n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo "$n" > runs\n`;

/** A training job: JSON metrics, a checkpoint every 10 steps, NaN at step 25 unless LR was halved. */
const TRAIN = `${COUNTER}start=0
if [ -n "$AUTOSENTRY_RESUME_FROM" ]; then
  [ "$1" = "--resume" ] && [ "$2" = "$AUTOSENTRY_RESUME_FROM" ] || { echo "bad resume args: $*" >&2; exit 9; }
  start=$(basename "$AUTOSENTRY_RESUME_FROM" .pt | sed 's/step-//')
  echo "resumed from $AUTOSENTRY_RESUME_FROM at step $start with LR=$LR"
fi
mkdir -p ckpt
step=$start
while [ $step -lt 40 ]; do
  step=$((step + 1))
  if [ "$LR" = "0.001" ] && [ $step -ge 25 ]; then loss=NaN; else loss="1.$((100 - step))"; fi
  echo "{\\"step\\": $step, \\"loss\\": $loss, \\"lr\\": $LR}"
  if [ $((step % 10)) -eq 0 ] && [ "$loss" != NaN ]; then
    echo x > ckpt/.tmp-$step && mv ckpt/.tmp-$step ckpt/step-$step.pt
  fi
  sleep 0.05
done
echo "finished at step $step"
`;

describe("metrics and checkpoints", () => {
  test("loss NaN at step 25: restarted from the newest checkpoint with LR halved, and completes", async () => {
    const dir = makeProject(
      { "train.sh": TRAIN },
      `process:
  command: [sh, train.sh]
  env: { LR: "0.001" }
  restart_policy: { cooldown_seconds: 0.1 }
  resume: { glob: "ckpt/step-*.pt", arg_template: "--resume {checkpoint}", min_age_seconds: 0 }
detectors:
  - kind: metric
    metric: { series: loss, spike: { factor: 5 } }
rules:
  - name: halve_lr
    match: { metric: loss, condition: nan }
    action: { kind: restart_with_env, set: { LR: "*0.5" } }
monitor: { settle_seconds: 0.2 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "runs").trim()).toBe("2");
    const log = readFile(dir, ".autosentry/logs/process.log");
    expect(log).toContain(`resumed from ${path.join(dir, "ckpt/step-20.pt")} at step 20 with LR=0.0005`);
    expect(log).toContain("finished at step 40");
    expect(readState(dir)!.env_overlay).toEqual({ LR: "0.0005" });
    const ids = incidentIds(dir);
    expect(ids.length).toBe(1);
    const report = readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`);
    expect(report).toContain("metric loss is NaN at step 25");
    expect(report).toContain("## Metrics");
    expect(report).toMatch(/```\n[▁▂▃▄▅▆▇█]+×\n```/);
    expect(report).toContain("| 25 | NaN |");
    // the job went on printing NaN while the failure settled: it reached step 25 or a little later
    const ck =
      /The next run resumes from `(.*)` \(step 20\)\. The failed run had reached step (\d+): (\d+) step\(s\) will be done again\./.exec(
        report,
      );
    expect(ck?.[1]).toBe(path.join(dir, "ckpt/step-20.pt"));
    expect(Number(ck?.[2])).toBeGreaterThanOrEqual(25);
    expect(Number(ck?.[3])).toBe(Number(ck?.[2]) - 20);
    expect(report).toContain("`LR=0.0005` (from `*0.5`)");
    // the series on disk for the web viewer, NaN spelled out
    const series = readFile(dir, ".autosentry/metrics/loss.jsonl")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(series.some((p) => p.v === "NaN" && p.step === 25 && p.g === 1)).toBe(true);
    expect(series.at(-1)).toMatchObject({ step: 40, g: 2 });
    const status = await run(["status"], { cwd: dir });
    expect(status.stdout).toContain(path.join(dir, "ckpt/step-20.pt"));
  });

  test("a pause sends the checkpoint signal first and waits for the new checkpoint", async () => {
    const dir = makeProject(
      {
        "job.sh": `mkdir -p ckpt
trap 'echo saving; echo x > ckpt/.tmp && mv ckpt/.tmp ckpt/step-77.pt; echo saved' USR1
echo ready
while :; do sleep 0.1; done
`,
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 2
  resume: { glob: "ckpt/step-*.pt", signal: USR1, signal_wait_seconds: 20, min_age_seconds: 0 }
`,
    );
    const m = start(["run"], { cwd: dir });
    await waitFor(
      "the job to start",
      () =>
        fs.existsSync(path.join(dir, ".autosentry/logs/process.log")) &&
        readFile(dir, ".autosentry/logs/process.log").includes("ready"),
    );
    const pause = await run(["pause"], { cwd: dir });
    expect(`${pause.code} ${pause.stdout}${pause.stderr}`).toStartWith("0 paused");
    await waitFor("paused", () => readState(dir)?.phase === "paused");
    expect(fs.existsSync(path.join(dir, "ckpt/step-77.pt"))).toBe(true);
    // the job handled the signal while the capture shim (same group) kept logging
    expect(readFile(dir, ".autosentry/logs/process.log")).toContain("saved");
    const ev = journal(dir).find((e) => e.event === "checkpoint_before_stop");
    expect(ev?.checkpoint).toBe(path.join(dir, "ckpt/step-77.pt"));
    m.proc.kill("SIGTERM");
    await m.wait();
  });

  test("max_run_seconds stops the run with its own exit class and exit 124", async () => {
    const dir = makeProject(
      { "job.sh": "echo working\nsleep 1000\n" },
      "process:\n  command: [sh, job.sh]\n  max_run_seconds: 1\n  stop_grace_seconds: 2\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(124);
    const st = readState(dir)!;
    expect(st.last_exit_class).toBe("max_run");
    expect(st.stop_reason).toBe("Run exceeded process.max_run_seconds (1s)");
    expect(incidentIds(dir)).toEqual([]);
  });
});

describe("liveness", () => {
  test("a job that stops touching its heartbeat is stopped and replaced", async () => {
    const dir = makeProject(
      {
        "job.sh": `${COUNTER}echo $$ > pid-$n
if [ "$n" -eq 1 ]; then
  i=0; while [ $i -lt 5 ]; do touch hb; sleep 0.2; i=$((i+1)); done
  echo "stuck in a collective"; sleep 1000
fi
i=0; while [ $i -lt 15 ]; do touch hb; sleep 0.2; i=$((i+1)); done
echo done
`,
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 2
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - kind: heartbeat
    heartbeat: { path: hb, max_age_seconds: 1.5, start_period_seconds: 1, interval_seconds: 0.2 }
monitor: { settle_seconds: 0.2 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFile(dir, "runs").trim()).toBe("2");
    const first = Number(readFile(dir, "pid-1").trim());
    expect(alive(first)).toBe(false);
    const report = readFile(dir, `.autosentry/incidents/${incidentIds(dir)[0]}/report.md`);
    expect(report).toMatch(/heartbeat stale: last touched \d+s ago \(limit 1.5s\)/);
    expect(report).toContain("rule `heartbeat (implied: restart)` → restart");
  });

  test("an HTTP service failing its probe is stopped before it is replaced", async () => {
    const port = await freePort();
    const server = `import http.server, os, signal, sys, time
n = int(open("runs").read()) if os.path.exists("runs") else 0
n += 1
open("runs", "w").write(str(n))
def term(*_):
    open(f"term-{n}", "w").write("SIGTERM")
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
t0 = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = n > 1 or time.time() - t0 < 1.5
        self.send_response(200 if ok else 503)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", ${port}), H)
s.allow_reuse_address = True
s.timeout = 0.2
print(f"serving run {n}", flush=True)
while n == 1 or time.time() - t0 < 3:
    s.handle_request()
print("second run done", flush=True)
`;
    const dir = makeProject(
      { "server.py": server },
      `process:
  command: [python3, server.py]
  stop_grace_seconds: 5
  restart_policy: { cooldown_seconds: 0.5 }
detectors:
  - kind: probe
    name: health
    probe: { http: "http://127.0.0.1:${port}/health", interval_seconds: 0.3, timeout_seconds: 1, start_period_seconds: 5, failure_threshold: 3 }
monitor: { settle_seconds: 0.2 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(`${r.code}\n${r.stderr}`).toStartWith("0\n");
    expect(readFile(dir, "runs").trim()).toBe("2");
    // the unhealthy server got SIGTERM, and its exit came before the next launch
    expect(readFile(dir, "term-1")).toBe("SIGTERM");
    const ev = journal(dir);
    const exited = ev.findIndex((e) => e.event === "child_exited" && e.generation === 1);
    const next = ev.findIndex((e) => e.event === "child_started" && e.generation === 2);
    expect(exited).toBeGreaterThan(-1);
    expect(next).toBeGreaterThan(exited);
    const report = readFile(dir, `.autosentry/incidents/${incidentIds(dir)[0]}/report.md`);
    expect(report).toContain(
      `health probe http://127.0.0.1:${port}/health failed 3 times in a row (last: HTTP 503)`,
    );
  });

  test("a job that prints its completion marker and hangs in teardown exits as a success", async () => {
    const dir = makeProject(
      {
        "job.sh":
          "echo $$ > pid\necho 'step 100 loss=0.1'\necho 'TRAINING COMPLETE'\ntrap '' TERM\nsleep 1000\n",
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 1
detectors:
  - kind: completion
    completion: { marker_regex: "^TRAINING COMPLETE", grace_seconds: 1 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const st = readState(dir)!;
    expect(st.phase).toBe("completed");
    expect(st.last_exit_class).toBe("success");
    expect(st.stop_reason).toBe(
      "Completed (completion marker seen: TRAINING COMPLETE); the child hung in its teardown and was stopped after 1s",
    );
    expect(alive(Number(readFile(dir, "pid").trim()))).toBe(false);
    expect(incidentIds(dir)).toEqual([]);
  });
});

describe("completion then a crash in teardown", () => {
  test("a non-zero exit after the completion marker is still a success, with no incident", async () => {
    const dir = makeProject(
      {
        "job.sh":
          "echo 'TRAINING COMPLETE'\nsleep 0.3\necho 'NCCL error: unhandled system error' >&2\nexit 1\n",
      },
      `process:
  command: [sh, job.sh]
detectors:
  - { kind: pattern, name: nccl, regex: "NCCL error" }
  - kind: completion
    completion: { marker_regex: "^TRAINING COMPLETE", grace_seconds: 30 }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const st = readState(dir)!;
    expect([st.phase, st.last_exit_class, st.last_exit_code]).toEqual(["completed", "success", 0]);
    expect(incidentIds(dir)).toEqual([]);
    const ignored = journal(dir).find((e) => e.event === "detection_ignored" && e.detector === "nccl");
    expect(ignored?.reason).toBe("the work was already complete");
  });
});

describe("sentinel files", () => {
  test("the skill's sentinel files: .heartbeat keeps it alive, .status SUCCESS completes it even if it then hangs", async () => {
    const dir = makeProject(
      {
        "job.sh": `mkdir -p run
i=0; while [ $i -lt 10 ]; do touch run/.heartbeat; sleep 0.2; i=$((i+1)); done
echo '{"accuracy": 0.93}' > run/.result
echo SUCCESS > run/.status
trap '' TERM
sleep 1000
`,
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 1
detectors:
  - kind: heartbeat
    heartbeat: { sentinel_dir: run, max_age_seconds: 1, start_period_seconds: 1, interval_seconds: 0.2 }
`,
    );
    // a previous run's status must not end this one
    fs.mkdirSync(path.join(dir, "run"));
    fs.writeFileSync(path.join(dir, "run/.status"), "FAILED\n");
    const old = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, "run/.status"), old, old);
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const st = readState(dir)!;
    expect(st.phase).toBe("completed");
    expect(st.stop_reason).toStartWith("Completed (sentinel .status says SUCCESS)");
    expect(incidentIds(dir)).toEqual([]);
  });
});

describe("resources", () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) Bun.spawnSync(["umount", "-l", m]);
  });

  test("a disk filling past critical pauses the job before its next checkpoint", async () => {
    const dir = makeProject(
      {
        "job.sh": `${COUNTER}i=0
while [ $i -lt 16 ]; do
  i=$((i+1))
  echo "writing shard $i"
  dd if=/dev/zero of=data/shard-$i bs=1M count=1 2>/dev/null || { echo "write failed" >&2; exit 1; }
  if [ $((i % 2)) -eq 0 ]; then echo "checkpoint $i"; cp data/shard-$i data/ckpt-$i; fi
  sleep 0.5
done
`,
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 2
detectors:
  - kind: resource
    name: disk
    resources: { interval_seconds: 0.1, disk: { paths: [data], warn_percent: 40, critical_percent: 60 } }
monitor: { settle_seconds: 0.1 }
`,
    );
    const data = path.join(dir, "data");
    fs.mkdirSync(data);
    // a real 16 MiB filesystem the job fills: 1 MiB shards, a 1 MiB checkpoint every second shard
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", data]);
    if (mount.exitCode !== 0)
      throw new Error(`this test needs root to mount a tmpfs: ${mount.stderr.toString()}`);
    mounts.push(data);
    const m = start(["run"], { cwd: dir });
    await waitFor("the disk rule to pause the job", () => readState(dir)?.phase === "paused", 60_000);
    const st = readState(dir)!;
    expect(st.paused_by).toBe("rule disk (implied: pause)");
    const files = fs.readdirSync(data);
    // paused past 60 % (about 10 MiB): long before the job could fill 16 MiB
    expect(files.length).toBeLessThan(16);
    expect(readFile(dir, ".autosentry/logs/process.log")).not.toContain("write failed");
    const report = readFile(dir, `.autosentry/incidents/${incidentIds(dir).at(-1)}/report.md`);
    expect(report).toMatch(/resource disk .*data: \d+(\.\d+)? % is above the critical level 60 %/);
    const warn = journal(dir).find((e) => e.event === "detection" && /warn level 40 %/.test(e.message));
    expect(warn).toBeDefined();
    // nothing more is written while paused
    const before = fs.readdirSync(data).length;
    await Bun.sleep(1500);
    expect(fs.readdirSync(data).length).toBe(before);
    m.proc.kill("SIGTERM");
    await m.wait();
  });

  test("GPU errors through a fake nvidia-smi on PATH: an ECC error pauses the job", async () => {
    const dir = makeProject(
      {
        "bin/nvidia-smi": `#!/bin/sh
n=$(( $(cat "$SMI_COUNT" 2>/dev/null || echo 0) + 1 )); echo $n > "$SMI_COUNT"
ecc=0; [ $n -ge 4 ] && ecc=3
echo "0, NVIDIA H100 80GB HBM3, 40000, 81559, 95, $ecc"
`,
        "job.sh": "echo training\nsleep 1000\n",
      },
      `process:
  command: [sh, job.sh]
  stop_grace_seconds: 2
detectors:
  - kind: resource
    name: gpu
    resources: { gpu: { interval_seconds: 0.2, xid_command: [] } }
monitor: { settle_seconds: 0.1 }
`,
    );
    fs.chmodSync(path.join(dir, "bin/nvidia-smi"), 0o755);
    const env = testEnv({
      PATH: `${path.join(dir, "bin")}:${testEnv().PATH}`,
      SMI_COUNT: path.join(dir, "smi-count"),
    });
    const m = start(["run"], { cwd: dir, env });
    await waitFor("the ECC rule to pause the job", () => readState(dir)?.phase === "paused", 60_000);
    const report = readFile(dir, `.autosentry/incidents/${incidentIds(dir)[0]}/report.md`);
    expect(report).toContain(
      "resource gpu_ecc 0: 3 is above the critical level 0 (3 volatile uncorrected ECC errors, NVIDIA H100 80GB HBM3)",
    );
    m.proc.kill("SIGTERM");
    await m.wait();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
