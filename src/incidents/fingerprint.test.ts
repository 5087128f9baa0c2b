import { describe, expect, test } from "bun:test";
import type { Detection, Frame, Trace, TraceException } from "../core/types.ts";
import { fingerprint, normalizeMessage } from "./fingerprint.ts";

function frame(file: string, line: number, fn: string | null): Frame {
  return { file, line, function: fn, raw: `File "${file}", line ${line}, in ${fn}` };
}

function det(message: string, trace?: Trace, detector = "traceback"): Detection {
  return {
    detector,
    detectorKind: trace ? "traceback" : "pattern",
    kind: "error",
    message,
    trace,
    context: [],
    meta: {},
    at: 0,
    generation: 1,
  };
}

function pyTrace(exceptions: TraceException[]): Trace {
  return { language: "python", text: "", exceptions };
}

/** An OOM raised in Trainer.step, as seen from one checkout, at one step, by one pid. */
function oom(root: string, stepLine: number, step: number, pid: number, addr: string): Detection {
  const msg = `CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total; pid ${pid}; step ${step}; ptr ${addr})`;
  return det(
    `torch.OutOfMemoryError: ${msg}`,
    pyTrace([
      {
        type: "torch.OutOfMemoryError",
        message: msg,
        frames: [
          frame(`${root}/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py`, 1501, "_call_impl"),
          frame(`${root}/train.py`, stepLine, "step"),
          frame(`${root}/train.py`, stepLine + 40, "main"),
        ],
      },
    ]),
  );
}

describe("fingerprint", () => {
  test("is 16 lower-case hex digits", () => {
    expect(fingerprint(det("boom"))).toMatch(/^[0-9a-f]{16}$/);
  });

  test("two OOMs at different steps, addresses, pids, checkouts and line numbers share one", () => {
    const a = oom("/home/alice/run1", 120, 1200, 4242, "0x7f3a2c000000");
    const b = oom("/scratch/job-991/code", 131, 48000, 77, "0x7ffe10001000");
    expect(fingerprint(a)).toBe(fingerprint(b));
  });

  test("an OOM and a KeyError at the same place do not", () => {
    const a = oom("/w", 120, 1, 1, "0x1");
    const k = det(
      "KeyError: 'label'",
      pyTrace([{ type: "KeyError", message: "'label'", frames: a.trace!.exceptions[0]!.frames }]),
    );
    expect(fingerprint(a)).not.toBe(fingerprint(k));
  });

  test("the same exception type raised from a different function does not", () => {
    const t = (fn: string) =>
      det(
        "ValueError: x",
        pyTrace([{ type: "ValueError", message: "x", frames: [frame("/w/a.py", 3, fn)] }]),
      );
    expect(fingerprint(t("load"))).not.toBe(fingerprint(t("save")));
  });

  test("the message of a traced exception does not matter; the chain does", () => {
    const f = [frame("/w/a.py", 3, "get")];
    const one = det("KeyError: 'a'", pyTrace([{ type: "KeyError", message: "'a'", frames: f }]));
    const two = det("KeyError: 'b'", pyTrace([{ type: "KeyError", message: "'b'", frames: f }]));
    expect(fingerprint(one)).toBe(fingerprint(two));
    const chained = det(
      "RuntimeError: wrap",
      pyTrace([
        { type: "KeyError", message: "'a'", frames: f },
        { type: "RuntimeError", message: "wrap", frames: f },
      ]),
    );
    expect(fingerprint(chained)).not.toBe(fingerprint(one));
  });

  test("deep recursion of different depths shares one", () => {
    const rec = (depth: number) =>
      det(
        "RecursionError: maximum recursion depth exceeded",
        pyTrace([
          {
            type: "RecursionError",
            message: "maximum recursion depth exceeded",
            frames: [
              ...Array.from({ length: depth }, () => frame("/w/tree.py", 9, "walk")),
              frame("/w/m.py", 2, "main"),
            ],
          },
        ]),
      );
    expect(fingerprint(rec(990))).toBe(fingerprint(rec(1000)));
  });

  test("closures and lambdas numbered by the compiler group together", () => {
    const rs = (closure: string) =>
      det("panic", {
        language: "rust",
        text: "",
        exceptions: [{ type: "panic", message: "x", frames: [frame("src/main.rs", 4, closure)] }],
      });
    expect(fingerprint(rs("app::run::{{closure}}"))).toBe(fingerprint(rs("app::run::{{closure}}")));
    const java = (fn: string) =>
      det("x", {
        language: "java",
        text: "",
        exceptions: [
          { type: "java.lang.IllegalStateException", message: "x", frames: [frame("App.java", 4, fn)] },
        ],
      });
    expect(fingerprint(java("App.lambda$main$0"))).toBe(fingerprint(java("App.lambda$main$3")));
  });

  test("without a trace: detector plus normalised message", () => {
    const a = det("CUDA out of memory at step 1200 (pid 4242, 0x7f3a2c000000)", undefined, "oom");
    const b = det("CUDA out of memory at step 48000 (pid 77, 0x7ffe10001000)", undefined, "oom");
    const c = det("CUDA out of memory at step 48000 (pid 77, 0x7ffe10001000)", undefined, "pattern_1");
    const d = det("NCCL watchdog timeout at step 1200", undefined, "oom");
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(b)).not.toBe(fingerprint(c));
    expect(fingerprint(a)).not.toBe(fingerprint(d));
  });

  test("a trace with no type and no frame falls back to the message", () => {
    const empty = det("Segmentation fault", pyTrace([{ type: null, message: "", frames: [] }]), "exit_code");
    expect(fingerprint(empty)).toBe(fingerprint(det("Segmentation fault", undefined, "exit_code")));
  });
});

describe("normalizeMessage", () => {
  test.each([
    ["step 1200 loss nan at 2026-11-22T02:15:07.123Z", "step <n> loss nan at <ts>"],
    ["[12:03:04] worker pid=4242 died", "[<ts>] worker pid=<n> died"],
    ["segfault at 0x7f3a2c000000 in libfoo", "segfault at <hex> in libfoo"],
    ["commit 3f2a9c1b0d4e5f67 failed", "commit <hex> failed"],
    ["run 123e4567-e89b-12d3-a456-426614174000 lost", "run <uuid> lost"],
    ["No such file: '/home/alice/data/train_000.bin'", "No such file: 'train_<n>.bin'"],
    ["open ./data/x.csv and ~/cfg/a.yaml", "open x.csv and a.yaml"],
    ["Tried to allocate 2.50 GiB (GPU 3)", "Tried to allocate <n> GiB (GPU <n>)"],
    ["  many   spaces\tand\nlines ", "many spaces and lines"],
    ["deadbeef stays, deadbeef01 goes", "deadbeef stays, <hex> goes"],
    ["cafe and facade stay", "cafe and facade stay"],
  ])("%p → %p", (input, expected) => {
    expect(normalizeMessage(input)).toBe(expected);
  });
});
