import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
const TRACES = path.resolve(import.meta.dir, "../../../tests/fixtures/traces");
let tmp: string;

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-cli-scan-")));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], cwd = tmp) {
  const p = Bun.spawnSync([process.execPath, MAIN, "scan", ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("autosentry scan", () => {
  test("--json: one object per detection, frames innermost first; exit 0", () => {
    const r = run(["--json", path.join(TRACES, "prefixes/torchrun-interleaved.txt")]);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((x) => [x.line, x.detector])).toEqual([
      [2, "traceback"],
      [9, "traceback"],
      [27, "oom"],
      [29, "oom"],
      // line 29 is the exception line of rank 0's trace: named cuda_oom there, not reported twice
      [50, "signatures"],
    ]);
    expect(rows[1]).toEqual({
      line: 9,
      detector: "traceback",
      kind: "error",
      message:
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 15.78 GiB of which 1.12 GiB is free. Of the allocated memory 13.20 GiB is allocated by PyTorch.",
      exception_type: "torch.OutOfMemoryError",
      language: "python",
      frames: [
        ["/tmp/autosentry-traces/python/torch/__init__.py", 6, "empty"],
        ["/tmp/autosentry-traces/python/train_oom.py", 9, "forward"],
        ["/tmp/autosentry-traces/python/train_oom.py", 14, "step"],
        ["/tmp/autosentry-traces/python/train_oom.py", 19, "<module>"],
      ],
      signature: "cuda_oom",
      signature_kind: "oom",
      explanation:
        "GPU memory ran out: lower the batch size (or use gradient accumulation / checkpointing); PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True helps with fragmentation",
      innermost_frame: ["/tmp/autosentry-traces/python/torch/__init__.py", 6, "empty"],
      project_frame: ["/tmp/autosentry-traces/python/torch/__init__.py", 6, "empty"],
    });
    expect(rows[2]).toEqual({
      line: 27,
      detector: "oom",
      kind: "error",
      message: "[default0]:    raise OutOfMemoryError(",
      exception_type: null,
      language: null,
      frames: [],
      signature: null,
      signature_kind: null,
      explanation: null,
      innermost_frame: null,
      project_frame: null,
    });
    // the launcher's summary line, named and explained by the signature pack
    expect(rows[4]).toMatchObject({
      line: 50,
      detector: "signatures",
      message: "failed (exitcode: 1) local_rank: 0 (pid: 4243) of binary: python3",
      signature: "torchrun_child_failed",
      signature_kind: "launcher",
    });
  });

  test("human output: a block per detection with line, detector, kind, message and frames", () => {
    const r = run([path.join(TRACES, "java/caused-by.txt")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "line 2: traceback (error): java.lang.IllegalStateException: could not load shard 3\n" +
        "  chain (first raised → final): java.lang.IndexOutOfBoundsException → java.lang.IllegalStateException\n" +
        "  java trace, 2 frames (innermost first)\n" +
        "    com/example/train/Main.java:15 in com.example.train.Main.run\n",
    );
    expect(r.stdout.trim().split("\n").at(-1)).toMatch(/^1 detection in .*caused-by\.txt\.$/);
  });

  test("a trace still open at the end of the file is reported", () => {
    const file = path.join(tmp, "run.log");
    fs.writeFileSync(
      file,
      "step 1\nTraceback (most recent call last):\n  File \"/w/a.py\", line 1, in f\nKeyError: 'x'",
    );
    const r = run(["--json", file]);
    expect(r.stdout.trim()).not.toBe("");
    expect(JSON.parse(r.stdout).message).toBe("KeyError: 'x'");
    expect(JSON.parse(r.stdout).line).toBe(2);
  });

  test("nothing found: still exit 0", () => {
    const r = run([path.join(TRACES, "clean/training-run.txt")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No detections in /);
  });

  test("the config's detectors are used when there is a config", () => {
    fs.mkdirSync(path.join(tmp, ".autosentry"));
    fs.writeFileSync(
      path.join(tmp, ".autosentry/autosentry.yaml"),
      'process:\n  command: ["python3", "train.py"]\ndetectors:\n  - kind: pattern\n    name: loss_nan\n    regex: "loss[= ](nan|inf)"\n',
    );
    const file = path.join(tmp, "run.log");
    fs.writeFileSync(file, "step 1 loss 0.5\nstep 2 loss nan\nTraceback (most recent call last):\n");
    const r = run(["--json", file]);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).detector),
    ).toEqual(["loss_nan"]);
  });

  test("unreadable file or bad config: exit 2 with a message", () => {
    const missing = run([path.join(tmp, "nope.log")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Cannot read");
    expect(missing.stderr).toContain("file not found");
    expect(run([tmp]).code).toBe(2);
    fs.writeFileSync(path.join(tmp, "bad.yaml"), "detectors:\n  - kind: pattern\n");
    const bad = run(["-c", path.join(tmp, "bad.yaml"), path.join(TRACES, "go/index.txt")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("regex");
  });
});
