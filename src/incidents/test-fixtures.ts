/**
 * @module
 * Values shared by the incident tests: a chained Python traceback detection, an exit-code
 * detection, and a {@link NewIncident} built from them.
 */
import type { Detection, Trace } from "../core/types.ts";
import type { NewIncident } from "./types.ts";

/** 2026-03-04 05:06:07 UTC */
export const T0 = Date.UTC(2026, 2, 4, 5, 6, 7);

export function pythonTrace(): Trace {
  return {
    language: "python",
    text: [
      "Traceback (most recent call last):",
      '  File "/work/proj/data.py", line 12, in load',
      "    return table[key]",
      "KeyError: 'batch'",
      "",
      "During handling of the above exception, another exception occurred:",
      "",
      "Traceback (most recent call last):",
      '  File "/work/proj/train.py", line 40, in <module>',
      "    main()",
      '  File "/work/proj/lib/model step.py", line 7, in Trainer.step',
      "    raise ValueError(f'bad batch ``{x}``')",
      "ValueError: bad batch ``7``",
    ].join("\n"),
    exceptions: [
      {
        type: "KeyError",
        message: "'batch'",
        frames: [
          {
            file: "/work/proj/data.py",
            line: 12,
            function: "load",
            raw: 'File "/work/proj/data.py", line 12, in load',
          },
        ],
      },
      {
        type: "ValueError",
        message: "bad batch ``7``",
        frames: [
          {
            file: "/work/proj/lib/model step.py",
            line: 7,
            function: "Trainer.step",
            raw: 'File "/work/proj/lib/model step.py", line 7, in Trainer.step',
          },
          {
            file: "/work/proj/train.py",
            line: 40,
            function: "<module>",
            raw: 'File "/work/proj/train.py", line 40, in <module>',
          },
        ],
      },
    ],
  };
}

export function tracebackDetection(over: Partial<Detection> = {}): Detection {
  return {
    detector: "traceback",
    detectorKind: "traceback",
    kind: "error",
    message: "ValueError: bad batch ``7``",
    exceptionType: "ValueError",
    trace: pythonTrace(),
    context: ["ctx line 1", "ctx line 2"],
    meta: {},
    at: T0 - 500,
    generation: 2,
    ...over,
  };
}

export function exitDetection(): Detection {
  return {
    detector: "exit_code",
    detectorKind: "exit_code",
    kind: "error",
    message: "process exited with code 1",
    context: [],
    meta: { code: 1 },
    at: T0,
    generation: 2,
  };
}

export function newIncident(over: Partial<NewIncident> = {}): NewIncident {
  const det = tracebackDetection();
  return {
    detection: det,
    related: [det, exitDetection()],
    logExcerpt: Array.from({ length: 30 }, (_, i) => `log line ${i + 1}`),
    state: { pid: 4242, restarts: 3, user: { note: "hello" } },
    process: { kind: "local", argv: ["python", "train.py", "--lr", "1e-3 x"], cwd: "/work/proj", pid: 4242 },
    restarts: 3,
    maxRestarts: 0,
    configSnapshots: [],
    ...over,
  };
}
