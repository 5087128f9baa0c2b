/**
 * Where a Python exception's message ends: its own continuation lines (a `str()` with newlines,
 * `add_note()` notes, torchrun's summary block, NCCL's "Last error:") stay in it, while the
 * ordinary output a program prints after a caught-and-printed traceback (`traceback.print_exc()`
 * in a training loop that keeps going) does not.
 */
import { describe, expect, test } from "bun:test";
import type { Detection } from "../../core/types.ts";
import { detectAll, fixture } from "./test-helpers.ts";

function only(text: string): Detection {
  const found = detectAll(text);
  expect(found.length).toBe(1);
  return found[0]!;
}

function finalMessage(d: Detection): string {
  return d.trace!.exceptions.at(-1)!.message;
}

const TRACE = [
  "Traceback (most recent call last):",
  '  File "/w/train.py", line 40, in <module>',
  "    loss = step(batch)",
  '  File "/w/train.py", line 22, in step',
  "    raise RuntimeError(msg)",
];

describe("a caught traceback followed by the program's own output", () => {
  test("traceback.print_exc() in a training loop: the step lines after it are not the message", () => {
    const d = only(fixture("python/caught_loop.txt"));
    expect(finalMessage(d)).toBe(
      [
        "CUDA error: device-side assert triggered",
        "CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.",
        "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
      ].join("\n"),
    );
    expect([d.meta["line_no"], d.meta["end_line_no"]]).toEqual([3, 11]);
    expect(d.trace!.text).not.toContain("step 102");
  });

  test("notes (add_note) stay; the metrics dict and JSON log record after them do not", () => {
    const d = only(fixture("python/caught_notes.txt"));
    expect(finalMessage(d)).toBe(
      [
        "bad header in shard 7",
        "expected 'id,text', got 'id;text'",
        "while loading data/shard-7.csv",
        "hint: pass --delimiter ';'",
      ].join("\n"),
    );
    expect([d.meta["line_no"], d.meta["end_line_no"]]).toEqual([3, 11]);
    expect(d.trace!.text).not.toContain("loss");
  });

  for (const after of [
    "Epoch 3/10",
    "epoch 3 step 1200 loss 2.3137",
    "[step 101] loss=nan lr=3.0e-04",
    "iter 200: loss 2.3137, time 512.33ms, mfu 38.12%",
    "Step: 5, Loss: 0.6931",
    "train_loss: 2.31 val_loss: 2.45",
    "{'loss': 0.6931, 'grad_norm': 1.25, 'learning_rate': 4.9e-05, 'epoch': 0.12}",
    "{'eval_loss': 0.52, 'eval_runtime': 12.3, 'epoch': 1.0}",
    '{"event": "batch failed, skipping", "level": "warning", "step": 101}',
    '{"asctime": "2025-01-09 04:11:09", "levelname": "INFO", "message": "resuming"}',
  ]) {
    test(`ends before: ${after}`, () => {
      const d = only([...TRACE, "RuntimeError: shape mismatch", after, after].join("\n"));
      expect(finalMessage(d)).toBe("shape mismatch");
      expect(d.meta["end_line_no"]).toBe(TRACE.length + 1);
    });
  }
});

test("a job's own lines that arrive inside the trace (stdout read before the rest of stderr) are left out", () => {
  // as process.log had it: the capture reads stdout and stderr from two pipes, and the step lines
  // printed after traceback.print_exc() returned came in before the rest of the trace
  const text = [
    "step 100 loss 1.5000",
    "Traceback (most recent call last):",
    "step 102 loss 1.4800",
    "step 103 loss 1.4700",
    '  File "/w/train.py", line 19, in <module>',
    "    loss = step(i)",
    "RuntimeError: CUDA error: device-side assert triggered",
    "For debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
  ].join("\n");
  const d = only(text);
  expect(d.message).toBe("RuntimeError: CUDA error: device-side assert triggered");
  expect(finalMessage(d)).toBe(
    "CUDA error: device-side assert triggered\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1.",
  );
  expect(d.trace!.exceptions[0]!.frames.map((f) => f.line)).toEqual([19]);
  expect(d.trace!.text).not.toContain("step 10");
});

describe("multi-line messages stay whole", () => {
  test("a message with newlines, then a blank line and program output", () => {
    const d = only(
      [...TRACE, "ValueError: bad header", "expected 'id,text'", "got 'id;text'", "", "resuming"].join("\n"),
    );
    expect(finalMessage(d)).toBe("bad header\nexpected 'id,text'\ngot 'id;text'");
  });

  test("NCCL's message with its `Last error:` lines", () => {
    const d = only(
      [
        ...TRACE,
        "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5",
        "ncclUnhandledCudaError: Call to CUDA function failed.",
        "Last error:",
        "Cuda failure 'out of memory'",
      ].join("\n"),
    );
    expect(finalMessage(d).split("\n").length).toBe(4);
  });

  test("pydantic's validation errors (field names, indented details with `input_value={...}`)", () => {
    const msg = [
      "2 validation errors for TrainConfig",
      "batch_size",
      "  Input should be a valid integer, unable to parse string as an integer [type=int_parsing, input_value='32x', input_type=str]",
      "    For further information visit https://errors.pydantic.dev/2.5/v/int_parsing",
      "lr",
      "  Field required [type=missing, input_value={'batch_size': '32x', 'epochs': 3}, input_type=dict]",
      "    For further information visit https://errors.pydantic.dev/2.5/v/missing",
    ];
    const d = only(
      [...TRACE, `pydantic_core._pydantic_core.ValidationError: ${msg[0]}`, ...msg.slice(1)].join("\n"),
    );
    expect(finalMessage(d)).toBe(msg.join("\n"));
  });

  test("torchrun's ChildFailedError summary block keeps its root cause", () => {
    const d = only(fixture("../../corpus/distributed/torchrun-sigkill-01.txt"));
    expect(d.message).toContain("exitcode -9");
    expect(finalMessage(d)).toContain("traceback : Signal 9 (SIGKILL) received by PID 14750");
  });

  test("an exception group's members: Python 3.11 prints a message's later lines without the `|` margin", () => {
    const d = only(fixture("python/group_notes.txt"));
    expect(d.message).toBe("ExceptionGroup: 2 workers failed (2 sub-exceptions)");
    expect(d.trace!.exceptions.map((e) => [e.type, e.message])).toEqual([
      ["ValueError", "worker 0 failed\nrank 0 saw NaN in layer 3\nretry with --rank 0 --debug"],
      ["ValueError", "worker 1 failed\nrank 1 saw NaN in layer 3\nretry with --rank 1 --debug"],
      ["ExceptionGroup", "2 workers failed (2 sub-exceptions)"],
    ]);
    expect([d.meta["line_no"], d.meta["end_line_no"]]).toEqual([1, 13]);
  });

  test("an exception group's trace still ends at a line without the margin that is not a message's", () => {
    const text = [
      "  + Exception Group Traceback (most recent call last):",
      '  |   File "/w/run.py", line 9, in <module>',
      '  |     raise ExceptionGroup("2 failed", errs)',
      "  | ExceptionGroup: 2 failed (1 sub-exception)",
      "  +-+---------------- 1 ----------------",
      "    | Traceback (most recent call last):",
      '    |   File "/w/run.py", line 3, in work',
      "    |     raise ValueError(1)",
      "    | ValueError: 1",
      "step 7 loss 0.31",
      "step 8 loss 0.30",
    ].join("\n");
    const d = only(text);
    expect(d.meta["end_line_no"]).toBe(9);
  });

  test("JAX's note after a dashed rule", () => {
    const d = only(fixture("../../corpus/python/jax-oom-21.txt"));
    expect(finalMessage(d)).toContain("For simplicity, JAX has removed its internal frames");
  });
});
