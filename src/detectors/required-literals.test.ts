import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildDetectors } from "./build.ts";
import { DEFAULT_DETECTOR_SPECS } from "./defaults.ts";
import {
  exactLiteral,
  literalPreTest,
  preTestSource,
  requiredLiteral,
  topLevelAlternatives,
  unwrapGroup,
} from "./required-literals.ts";
import { DetectorSet } from "./set.ts";
import { SIGNATURES } from "./signatures/pack.ts";
import { SignaturePack } from "./signatures/pack-set.ts";
import { TRACE_TRIGGER } from "./traceback/markers.ts";

describe("required literals", () => {
  test("top-level alternatives ignore `|` inside groups and classes", () => {
    expect(topLevelAlternatives("a|b(c|d)|[|]x|\\|y")).toEqual(["a", "b(c|d)", "[|]x", "\\|y"]);
  });

  test.each([
    ["CUDA out of memory", "CUDA out of memory"],
    // a lookahead, a class, a group: each ends a run
    ["CUDA error: (?!out of memory)[a-z]", "CUDA error: "],
    ["NVRM: Xid \\(", "NVRM: Xid ("],
    // optional and counted characters are not required
    ["[Ww]atchdog.*timed? ?out.*NCCL", "atchdog"],
    ["Out of memory: Kill(?:ed)? process", "Out of memory: Kill"],
    ["\\b\\d+ Killed {2,}\\S", " Killed"],
    ["DataLoader worker \\(pid\\(?s?\\)? ?[\\d, ]+", "DataLoader worker (pid"],
    // `+`: the character is required once, the run ends after it
    ["abcx+yzw", "abcx"],
    ["^\\s*exitcode\\s*: (-?\\d+) \\(pid: \\d+\\)", "exitcode"],
    // too short, or syntax not read here: no literal (the whole alternative is kept)
    ["a.b.c", null],
    ["\\x41BCDEF", null],
    ["(a)\\1xyzw", null],
    ["\\p{L}abcd", null],
  ])("%p → %p", (alt, want) => {
    expect(requiredLiteral(alt)).toBe(want);
  });

  test("the pre-test keeps an alternative it cannot read whole, and drops literals containing others", () => {
    expect(literalPreTest(["Killed process|Killed", "\\x41ny"])).toBe("Killed|\\x41ny");
    // a back-reference cannot be joined: no pre-test
    expect(literalPreTest(["(a)\\1"])).toBeNull();
    expect(new RegExp(literalPreTest(["a\\.b\\(cde"])!).test("xa.b(cdex")).toBe(true);
  });
});

describe("the combined pre-test source", () => {
  test("exact literals, outer groups unwrapped, whole alternatives kept as they are", () => {
    expect(exactLiteral("Traceback \\(")).toBe("Traceback (");
    expect(exactLiteral(" {4}at ")).toBeNull();
    expect(unwrapGroup("(a|b)")).toBe("a|b");
    expect(unwrapGroup("(?:a|b)")).toBe("a|b");
    expect(unwrapGroup("(a)|(b)")).toBe("(a)|(b)");
    expect(unwrapGroup("(?!x)y")).toBe("(?!x)y");
    expect(
      preTestSource(
        ["(OOM Error|NCCL.*\\b(error|timeout)\\b)", "Traceback \\(| {4}at "],
        ["HIP out of memory| Killed"],
      ),
    ).toBe("Killed|OOM Error|Traceback \\(|HIP out of memory|NCCL.*\\b(error|timeout)\\b| {4}at ");
    // a literal inside another is dropped
    expect(preTestSource(["Out of memory: Killed process"], ["Out of memory: Kill(?:ed)? process"])).toBe(
      "Out of memory: Kill",
    );
  });
});

/** Every line of the repository's logs and fixtures, and the pack's own documented examples. */
function sampleLines(): string[] {
  const root = path.join(import.meta.dir, "../../tests");
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(log|txt|out|err)$/.test(e.name) && fs.statSync(p).size < 4 << 20)
        out.push(...fs.readFileSync(p, "utf8").split(/\r\n|\r|\n/));
    }
  };
  walk(root);
  return out;
}

/**
 * One line for each standalone alternative that no log or fixture under tests/ exercises, so every
 * alternative of the pack has a line to check the pre-test on (a new alternative without one fails
 * the completeness test below).
 */
const EXAMPLES = [
  "RuntimeError: CUDA error: out of memory",
  "cudaErrorMemoryAllocation: out of memory",
  "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
  "ResourceExhaustedError: OOM when allocating tensor with shape[8192,8192]",
  "RuntimeError: HIP out of memory. Tried to allocate 2.00 GiB",
  "CUDA kernel failed : cudaErrorIllegalAddress",
  "error: cudaErrorAssert: device-side assert",
  "RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED",
  "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm`",
  "RuntimeError: CUDA driver version is insufficient for CUDA runtime version",
  "RuntimeError: CUDA error: no kernel image is available for execution on the device",
  "NVRM: GPU at PCI:0000:3b:00: uncorrectable ECC error detected",
  "[rank3]:[E] NCCL work 1234 timed out after 600000 milliseconds",
  "torch.distributed.DistBackendError: NCCL communicator was aborted on rank 2.",
  "[launcher] Process worker-3 exited with exit code 137",
  "mpirun: one or more processes exited with non-zero status",
  "kernel: Out of memory: Killed process 4242 (python) total-vm:91234kB",
  "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.",
  "mpirun noticed that process rank 1 exited on signal 7 (Bus error).",
  "mpirun noticed that process rank 1 exited on signal 4 (Illegal instruction).",
  "mpirun noticed that process rank 1 exited on signal 6 (Aborted).",
  "Fatal Python error: Aborted",
  "PM2 | App [api:0] Errored, waiting for restart",
  "api errored (pm2 restart limit reached)",
  "INFO mapreduce.Job: Job failed as tasks failed. failedMaps:1 failedReduces:0",
  "OSError: [Errno 122] Disk quota exceeded",
];

describe("the signature pack's pre-test", () => {
  const pack = new SignaturePack();
  const pre = new RegExp(pack.preTest!);

  test("every standalone alternative has a sample line (a log or fixture under tests/, or EXAMPLES)", () => {
    const lines = [...sampleLines(), ...EXAMPLES];
    const missing: string[] = [];
    for (const def of SIGNATURES.filter((d) => d.standalone)) {
      for (const alt of topLevelAlternatives(def.re.source)) {
        const re = new RegExp(alt);
        if (!lines.some((l) => re.test(l))) missing.push(`${def.name}: ${alt}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("matches every line the pack's trigger matches (corpus, fixtures, examples)", () => {
    const lines = [...sampleLines(), ...EXAMPLES];
    const triggered = lines.filter((l) => pack.trigger!.test(l));
    expect(triggered.length).toBeGreaterThan(20); // the sample does exercise the pack
    expect(triggered.filter((l) => !pre.test(l))).toEqual([]);
  });

  test("the detector set's pre-test matches every line a pattern, the trace trigger or a signature does", () => {
    const specs = DEFAULT_DETECTOR_SPECS;
    const set = new DetectorSet(buildDetectors(specs, { enabled: true, disabled: [] }));
    const regexes = [
      ...specs.flatMap((s) => (s.kind === "pattern" && s.regex ? [new RegExp(s.regex)] : [])),
      TRACE_TRIGGER,
      pack.trigger!,
    ];
    const lines = sampleLines();
    const wanted = lines.filter((l) => regexes.some((r) => r.test(l)));
    expect(wanted.length).toBeGreaterThan(500);
    expect(wanted.filter((l) => !set.preTest!.test(l))).toEqual([]);
    // and it is not a match-everything: most lines of the sample pass through untouched
    expect(lines.filter((l) => set.preTest!.test(l)).length).toBeLessThan(lines.length / 2);
  });

  test("every standalone alternative is covered by a literal or kept whole", () => {
    for (const def of SIGNATURES.filter((d) => d.standalone)) {
      for (const alt of topLevelAlternatives(def.re.source)) {
        const lit = requiredLiteral(alt);
        if (lit === null) expect(pack.preTest!.split("|")).toContain(alt);
        // the literal itself, or a shorter literal it contains, is in the pre-test
        else expect(pre.test(lit)).toBe(true);
      }
    }
  });

  test("a crash line deep inside a burst is found at the next tick (no ring overflow)", () => {
    const set = new DetectorSet(buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }), {
      applyCooldown: false,
    });
    set.onChildStart(1, 0);
    for (let i = 0; i < 300; i++) set.observeLine(`step ${i} loss 0.5`, "stdout", 10, 1);
    set.observeLine("Segmentation fault (core dumped)", "stderr", 10, 1);
    for (let i = 0; i < 1000; i++) set.observeLine(`restarted step ${i}`, "stdout", 10, 1);
    const found = set.observeTick(1000, true, 1).filter((d) => d.detector === "signatures");
    expect(found.map((d) => [d.signatureName, d.meta["line_no"]])).toEqual([["segfault", 301]]);
    // its context is the lines up to it, not the ring at the time of the tick
    expect(found[0]!.context.at(-1)).toBe("Segmentation fault (core dumped)");
    expect(found[0]!.context.at(-2)).toBe("step 299 loss 0.5");
    expect(set.flush(2000, 1).filter((d) => d.detector === "signatures")).toEqual([]);
  });
});
