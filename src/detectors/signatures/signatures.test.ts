import { describe, expect, test } from "bun:test";
import { Config } from "../../config/schema.ts";
import type { ChildExit, Detection } from "../../core/types.ts";
import { buildDetectors } from "../build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../defaults.ts";
import { ExitCodeDetector } from "../exit-code.ts";
import { scanText } from "../scanner.ts";
import { DetectorSet } from "../set.ts";
import { exitCodeMeaning, signalName } from "./exit-meaning.ts";
import { SIGNATURE_NAMES } from "./names.ts";
import { SIGNATURES } from "./pack.ts";
import { SignaturePack } from "./pack-set.ts";

const ON = { enabled: true, disabled: [] as string[] };

/** Signature names found in a text scanned with the default detectors and the pack. */
function named(text: string, cfg = ON): string[] {
  return scanText(text, buildDetectors(DEFAULT_DETECTOR_SPECS, cfg)).flatMap((h) =>
    h.detection.signatureName ? [h.detection.signatureName] : [],
  );
}

describe("the signature pack", () => {
  test("its names are the list the config schema validates against, each once", () => {
    expect(SIGNATURES.map((s) => s.name).sort()).toEqual([...SIGNATURE_NAMES].sort());
  });

  test.each([
    ["Killed", "oom_killer"],
    ["  5%|▌         | 50/1000 [00:10<03:10,  4.99it/s]Killed", "oom_killer"],
    [
      "/var/spool/slurmd/job01/slurm_script: line 9: 4242 Killed                  python train.py",
      "oom_killer",
    ],
    ["Segmentation fault (core dumped)", "segfault"],
    ["zsh: segmentation fault  python train.py", "segfault"],
    ["Bus error (core dumped)", "bus_error"],
    ["Illegal instruction", "illegal_instruction"],
    ["Aborted (core dumped)", "aborted"],
    ["Floating point exception (core dumped)", "floating_point_exception"],
    ["[launch.py:434:sigkill_handler] ['python', 'x.py'] exits with return code = -9", "launcher_child_exit"],
    ["srun: error: n01: task 3: Exited with exit code 1", "slurm_step_failed"],
    ["RuntimeError: CUDA error: an illegal memory access was encountered", "cuda_illegal_memory_access"],
    ["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "cuda_oom"],
    [
      "[E ProcessGroupNCCL.cpp:475] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5)",
      "nccl_watchdog_timeout",
    ],
    ['Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "jvm_oom"],
    ["OSError: [Errno 28] No space left on device", "disk_full"],
  ])("%p is %p", (line, name) => {
    expect(named(`${line}\n`)).toContain(name);
  });

  test.each([
    "Killed 0 stale worker processes",
    "Segmentation fault handler installed",
    "faulthandler enabled for SIGSEGV, SIGABRT",
    "Aborted 0 pending requests",
    "trainer-1 exited with code 0",
    "[launch.py:347:main] Process 31881 exits successfully.",
    "node01:1:1 [0] NCCL INFO NET/Plugin : dlerror=libnccl-net.so: cannot open shared object file",
  ])("%p is not a failure", (line) => {
    expect(scanText(`${line}\n`, buildDetectors(DEFAULT_DETECTOR_SPECS, ON))).toEqual([]);
  });

  test("a traceback is named after the signature its final exception matches", () => {
    const hits = scanText(
      'Traceback (most recent call last):\n  File "/w/t.py", line 3, in f\n    g()\nRuntimeError: CUDA error: device-side assert triggered\n',
      buildDetectors([{ kind: "traceback", stream: "any", no_progress_seconds: 1, nonzero_only: true }], ON),
    );
    const tb = hits.find((h) => h.detection.detectorKind === "traceback")!.detection;
    expect(tb.signatureName).toBe("cuda_device_assert");
    expect(tb.signatureKind).toBe("gpu");
    expect(tb.meta["signature_name"]).toBe("cuda_device_assert");
    expect(tb.explanation).toContain("CUDA_LAUNCH_BLOCKING=1");
    expect(tb.meta["project_frame"]).toBe("/w/t.py:3 in f");
  });

  test("switched off: no signature detector, no names; one signature off: only that one", () => {
    expect(named("Killed\n", { enabled: false, disabled: [] })).toEqual([]);
    expect(
      buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: false, disabled: [] }).map((d) => d.name),
    ).not.toContain("signatures");
    expect(
      named("Killed\nSegmentation fault (core dumped)\n", { enabled: true, disabled: ["oom_killer"] }),
    ).toEqual(["segfault"]);
  });

  test("no signatures argument: exactly the configured detectors (callers that do not know the pack)", () => {
    expect(buildDetectors(DEFAULT_DETECTOR_SPECS).map((d) => d.name)).not.toContain("signatures");
    expect(SignaturePack.from(undefined)).toBeNull();
  });

  test("the config rejects an unknown signature name, naming the key", () => {
    const r = Config.safeParse({ signatures: { disabled: ["cuda_oom", "no_such_thing"] } });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues[0]?.path)).toBe('["signatures","disabled",1]');
    expect(Config.parse({}).signatures).toEqual({ enabled: true, disabled: [] });
  });
});

describe("exit codes in words", () => {
  test("signals, shells' 128+n, launchers' negative codes, timeout", () => {
    expect(exitCodeMeaning(137)).toContain("SIGKILL");
    expect(exitCodeMeaning(137)).toContain("OOM killer");
    expect(exitCodeMeaning(139)).toContain("SIGSEGV");
    expect(exitCodeMeaning(143)).toContain("SIGTERM");
    expect(exitCodeMeaning(124)).toContain("timeout");
    expect(exitCodeMeaning(-9)).toContain("SIGKILL");
    expect(exitCodeMeaning(1)).toBeNull();
    expect(exitCodeMeaning(0)).toBeNull();
    expect(signalName(7)).toBe("SIGBUS");
  });

  const exit = (over: Partial<ChildExit>): ChildExit => ({
    code: null,
    signal: null,
    exitClass: "failure",
    at: 1,
    generation: 1,
    ...over,
  });

  test("the exit_code detector explains the code, and with the pack names it", () => {
    const plain = new ExitCodeDetector("exit_code", true, 0);
    const d1 = plain.observeExit(exit({ code: 137 })) as Detection;
    expect(d1.message).toBe("process exited with code 137");
    expect(d1.explanation).toContain("SIGKILL");
    expect(d1.signatureName).toBeUndefined();
    const named = new ExitCodeDetector("exit_code", true, 0, new SignaturePack());
    const d2 = named.observeExit(exit({ code: 139, signal: "SIGSEGV", exitClass: "signal" })) as Detection;
    expect(d2.signatureName).toBe("exit_signal");
    expect(d2.meta["exit_meaning"]).toContain("segmentation fault");
    const d3 = named.observeExit(exit({ code: 124 })) as Detection;
    expect(d3.signatureName).toBe("exit_timeout");
    expect(named.observeExit(exit({ code: 1 }))?.signatureName).toBeUndefined();
  });
});

describe("the signature detector in a detector set", () => {
  test("offline: a crash line in the middle of a long log is found, with its line number", () => {
    const text = [
      ...Array.from({ length: 500 }, (_, i) => `step ${i} loss 0.5`),
      "Segmentation fault (core dumped)",
      ...Array.from({ length: 500 }, (_, i) => `restarted step ${i}`),
    ].join("\n");
    const hits = scanText(text, buildDetectors(DEFAULT_DETECTOR_SPECS, ON)).filter(
      (h) => h.detection.signatureName,
    );
    expect(hits.map((h) => [h.line, h.detection.signatureName])).toEqual([[501, "segfault"]]);
  });

  test("live: nothing per line; the next tick reports what arrived since the last one, once", () => {
    const set = new DetectorSet(buildDetectors([], ON), { applyCooldown: false });
    set.onChildStart(1, 0);
    expect(set.observeLine("step 1", "stderr", 10, 1)).toEqual([]);
    expect(set.observeLine("Killed", "stderr", 11, 1)).toEqual([]);
    const found = set.observeTick(1000, true, 1);
    expect(found.map((d) => [d.detector, d.signatureName, d.meta["line_no"]])).toEqual([
      ["signatures", "oom_killer", 2],
    ]);
    expect(set.observeTick(2000, true, 1)).toEqual([]);
    // the end of the output reads what the last tick did not see
    set.observeLine("Bus error (core dumped)", "stderr", 2100, 1);
    expect(set.flush(2200, 1).map((d) => d.signatureName)).toEqual(["bus_error"]);
  });
});
