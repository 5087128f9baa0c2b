/**
 * The bytes ingest path against the string path (issue 13): the same random frame streams, cut
 * into random chunks, go through the local supervisor's reading as it was (one streaming
 * TextDecoder, LineSplitter, a string per frame, `LineIngest.line`) and as it is (FrameReader,
 * `LineIngest.lineBytes`, DetectorSet.observeBytes), and everything the monitor and the detectors
 * keep must come out identical: detections (detector, kind, message, fingerprint, context, line
 * numbers), the line count, the detector set's ring, the excerpt, the stall detector's progress
 * and what a flush and a late tick then report.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { DetectorSpec } from "../config/schema.ts";
import type { Detection } from "../core/types.ts";
import { buildDetectors } from "../detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../detectors/defaults.ts";
import type { RecentLines } from "../detectors/ring.ts";
import { DetectorSet } from "../detectors/set.ts";
import { StallDetector } from "../detectors/stall.ts";
import { FrameReader } from "../supervisors/local/frame-reader.ts";
import { LINE_TAG_STREAMS, TAG_STDERR, TAG_STDOUT } from "../supervisors/local/protocol.ts";
import { LINE_CUT_MARKER, LineSplitter } from "../util/lines.ts";
import { AfterLines, RingBuffer } from "./excerpt.ts";
import { LineIngest } from "./ingest.ts";

/** mulberry32 */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROOT = path.join(import.meta.dir, "../..");
/** Every line of the failure corpus and the trace fixtures (tracebacks of each language). */
const CORPUS: string[] = (() => {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".txt")) out.push(fs.readFileSync(p, "utf8"));
    }
  };
  walk(path.join(ROOT, "tests/corpus"));
  walk(path.join(ROOT, "tests/fixtures/traces"));
  return out;
})();

const enc = new TextEncoder();

/** A random frame stream: mostly O/E line frames (corpus blocks, step lines, odd bytes), some others. */
function frameStream(r: () => number, blocks: number): Uint8Array {
  const parts: number[] = [];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const term = () => {
    const x = r();
    if (x < 0.9) parts.push(10);
    else if (x < 0.95) parts.push(13, 10);
    else parts.push(13);
  };
  const frame = (tag: number, payload: Uint8Array | string) => {
    parts.push(tag);
    for (const b of typeof payload === "string" ? enc.encode(payload) : payload) parts.push(b);
    term();
  };
  const tag = () => (r() < 0.7 ? TAG_STDOUT : TAG_STDERR);
  let step = 0;
  for (let k = 0; k < blocks; k++) {
    const x = r();
    if (x < 0.25) {
      // a whole corpus file (a trace of some language, with the log around it), maybe rank-prefixed
      const prefix = r() < 0.3 ? `[rank${Math.floor(r() * 4)}]: ` : "";
      const t = tag();
      for (const l of pick(CORPUS).split(/\r?\n/)) frame(t, prefix + l);
    } else if (x < 0.55) {
      step += Math.floor(r() * 3) - 1;
      const n = Math.floor(r() * 10);
      const line = [
        `step ${step} loss 0.${Math.floor(r() * 1000)} lr 3e-4`,
        `iter  ${step} throughput 812.3 samples/s`,
        `[rank1]: step ${step}`,
        `steps ${step + 100} done`,
        `step\u00a0${step + 50} (a no-break space)`,
        `step \u2003${step + 60} (an em space after a space)`,
        `step 0${step} with a leading zero`,
        // rare: once seen, no later step is progress
        r() < 0.05 ? `step 12345678901234567890${n} huge` : `iter ${step + 2}`,
        `stepstep ${step + 1}`,
        `Epoch 3:  25%|██        | 258/1000 [00:04<01:30, 10.4it/s, iter ${step}]`,
      ][n]!;
      frame(tag(), line);
    } else if (x < 0.7) {
      frame(
        tag(),
        pick([
          "NCCL INFO comm 0x55d1c1f3 rank 7 nranks 8 cudaDev 1 busId 1000 - Init COMPLETE",
          "NCCL WARN something timed out",
          "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
          "Killed",
          "Segmentation fault (core dumped)",
          "ConnectionResetError: [Errno 104] Connection reset by peer",
          "\ufeffTraceback (most recent call last):",
          "    at Object.<anonymous> (/srv/app.js:1:1)",
          "\tat com.example.Main.main(Main.java:5)",
          "panic: runtime error: index out of range",
          "résumé ████ 😀 naïve",
          "",
          "x".repeat(Math.floor(r() * 400)),
          "é".repeat(Math.floor(r() * 200)),
          `${"y".repeat(Math.floor(r() * 300))}CUDA out of memory`,
        ]),
      );
    } else if (x < 0.8) {
      // bytes that are not UTF-8: lone continuation bytes, a truncated sequence, 0xff
      frame(tag(), new Uint8Array([0x73, 0x74, 0x65, 0x70, 0x20, 0x80, 0xe2, 0x82, 0x20, 0x31, 0xff, 0xc3]));
      frame(tag(), new Uint8Array([0xe2, 0x82]));
    } else if (x < 0.88) {
      frame(90, `1:${Math.floor(r() * 1e6)}`); // Z
    } else if (x < 0.9) {
      frame(87, "a warning"); // W
    } else {
      const t = tag();
      for (let i = 0; i < 5; i++) frame(t, `plain line ${k}.${i} of healthy output`);
    }
  }
  return Uint8Array.from(parts);
}

/** Random chunks (fresh buffers, as a ReadableStream hands them out). */
function chunks(r: () => number, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; ) {
    const x = r();
    const n =
      x < 0.3 ? 1 + Math.floor(r() * 8) : x < 0.9 ? 1 + Math.floor(r() * 300) : 1 + Math.floor(r() * 5000);
    out.push(b.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Lines the bytes side decoded to observe as strings (not compared: the string side decodes all). */
let decodedLines = 0;

interface Sides {
  found: string[];
  echo: string[];
  collected: string[];
  lines: number;
  ring: string[];
  excerpt: string[];
  stall: unknown[];
  end: string[];
}

const AT = 1_000_000;

interface Opts {
  maxFrame: number;
  echo?: boolean;
  current?: boolean;
  collect?: boolean;
}
const comparable = (d: Detection) => JSON.stringify(d);

/** One side: the old reading (strings) or the new (FrameReader + lineBytes). */
function run(specs: DetectorSpec[], stream: Uint8Array[], bytes: boolean, opts: Opts): Sides {
  let clock = AT;
  const set = new DetectorSet(buildDetectors(specs, { enabled: true, disabled: [] }));
  set.onChildStart(1, AT);
  const slowLine = set.slowLine.bind(set);
  set.slowLine = (batch, i) => {
    decodedLines++;
    return slowLine(batch, i);
  };
  const found: string[] = [];
  const echo: string[] = [];
  const collected: string[] = [];
  const excerpt = new RingBuffer(37);
  const after = new AfterLines(
    async (_id, lines) => {
      collected.push(...lines);
    },
    () => {},
  );
  if (opts.collect)
    after.start({ incidentId: "x", generation: 1, remaining: 1e9, lines: collected, until: 1e15 });
  const ingest = new LineIngest({
    echo: opts.echo ? (t, s) => echo.push(`${s}:${t}`) : null,
    excerpt,
    after,
    signals: { onLine: () => {}, wantsLines: false },
    detectors: set,
    current: () => opts.current ?? true,
    onDetection: (d) => found.push(comparable(d)),
    onError: (err) => {
      throw err;
    },
    now: () => clock,
  });
  /**
   * Every few chunks a second passes and the clock ticks (at a chunk boundary, the same on both
   * sides): traces of other sources close, the signature detector polls, and lines after that take
   * the bytes path again. (Not with frames past the bound: the string side cuts those earlier.)
   */
  const tick = (c: number) => {
    if (opts.maxFrame < 4096 || c % 4 !== 3) return;
    clock += 1000;
    for (const d of set.observeTick(clock, true, 1)) found.push(comparable(d));
    for (const d of set.poll(clock, 1)) found.push(comparable(d));
  };
  const onFrame = (f: string) => {
    const t = f.charCodeAt(0);
    if (t === TAG_STDOUT) ingest.line(f.slice(1), "stdout", 1);
    else if (t === TAG_STDERR) ingest.line(f.slice(1), "stderr", 1);
  };
  if (bytes) {
    const reader = new FrameReader(
      opts.maxFrame,
      {
        frame: onFrame,
        lines: (b, from, to, maxLine) => ingest.lineBytes(b, from, to, LINE_TAG_STREAMS, maxLine, 1),
      },
      [TAG_STDOUT, TAG_STDERR],
    );
    stream.forEach((c, i) => {
      reader.push(c);
      tick(i);
    });
    reader.end();
  } else {
    const decoder = new TextDecoder("utf-8");
    const splitter = new LineSplitter(opts.maxFrame);
    stream.forEach((c, i) => {
      splitter.push(decoder.decode(c, { stream: true }), onFrame);
      tick(i);
    });
    splitter.push(decoder.decode(), onFrame);
    splitter.end(onFrame);
  }
  const recent = (set as unknown as { recent: RecentLines }).recent;
  const stalls = set.detectors.filter((d): d is StallDetector => d instanceof StallDetector);
  const stall = stalls.map((s) => s.progressState());
  const lines = recent.recent(100);
  const ring = lines.map((l, i) => `${recent.streamAt(lines.length - 1 - i)}:${l}`);
  const end = [...set.flush(clock, 1), ...set.poll(clock, 1), ...set.observeTick(clock + 1e10, true, 1)].map(
    comparable,
  );
  return {
    found,
    echo,
    collected,
    lines: set.linesSeen(),
    ring,
    excerpt: excerpt.toArray(),
    stall,
    end,
  };
}

const base = { stream: "any", no_progress_seconds: 1800, nonzero_only: true } as const;
const WITH_USER_PATTERNS: DetectorSpec[] = [
  ...DEFAULT_DETECTOR_SPECS,
  { ...base, kind: "pattern", name: "stderr_fatal", regex: "FATAL|fatal error", stream: "stderr" },
  { ...base, kind: "stall", name: "any_output", no_progress_seconds: 60 },
];
const NO_LITERAL: DetectorSpec[] = [
  ...DEFAULT_DETECTOR_SPECS,
  { ...base, kind: "pattern", name: "digits", regex: "^\\d+$" },
];
const CASELESS: DetectorSpec[] = [
  ...DEFAULT_DETECTOR_SPECS,
  { ...base, kind: "pattern", name: "caseless", regex: "(?i)disk full" },
];

describe("bytes ingest path = string path", () => {
  const cases: Array<[string, DetectorSpec[], Opts]> = [
    ["default detectors", DEFAULT_DETECTOR_SPECS, { maxFrame: 4096 + 1 + LINE_CUT_MARKER.length }],
    ["default detectors, frames cut at 120 characters", DEFAULT_DETECTOR_SPECS, { maxFrame: 120 }],
    ["a stream-bound user pattern and a stall without metric", WITH_USER_PATTERNS, { maxFrame: 4096 }],
    ["a user pattern without a literal (string path)", NO_LITERAL, { maxFrame: 4096 }],
    ["a case-insensitive user pattern", CASELESS, { maxFrame: 4096 }],
    ["--follow echo (string path)", DEFAULT_DETECTOR_SPECS, { maxFrame: 4096, echo: true }],
    ["after-failure collection (string path)", DEFAULT_DETECTOR_SPECS, { maxFrame: 4096, collect: true }],
    ["lines of a generation that is not current", DEFAULT_DETECTOR_SPECS, { maxFrame: 4096, current: false }],
  ];
  for (const [name, specs, opts] of cases) {
    test(name, () => {
      let lines = 0;
      decodedLines = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const r = rng(seed * 7919 + name.length);
        const stream = frameStream(r, 60 + Math.floor(r() * 80));
        const split = chunks(r, stream);
        const want = run(specs, split, false, opts);
        const got = run(specs, split, true, opts);
        lines += got.lines;
        expect({ seed, ...got }).toEqual({ seed, ...want });
      }
      // the comparison covered the bytes path: many lines were never decoded (or, where the string
      // path must be taken, the bytes path was not used at all)
      const bytesPath = name.includes("(string path)") ? 0 : 500;
      if (bytesPath === 0) expect(decodedLines).toBe(0);
      else if (opts.current !== false) expect(lines - decodedLines).toBeGreaterThan(bytesPath);
    });
  }

  test("the fuzz inputs reach the cases that matter", () => {
    // the comparison above is only worth something if detections and progress happen at all
    const r = rng(5);
    const split = chunks(r, frameStream(r, 150));
    decodedLines = 0;
    const s = run(DEFAULT_DETECTOR_SPECS, split, true, { maxFrame: 4096 });
    // some lines took the bytes path without being decoded
    expect(decodedLines).toBeLessThan(s.lines - 50);
    expect(s.found.length).toBeGreaterThan(0);
    expect(s.found.some((f) => f.includes('"detectorKind":"traceback"'))).toBe(true);
    expect(s.stall.some((x) => (x as { value: string | null }).value !== null)).toBe(true);
    expect(s.end.some((f) => f.includes('"detectorKind":"stall"'))).toBe(true);
  });

  test("the default set has a bytes path; a pattern without a literal or with flags has none", () => {
    const set = (specs: DetectorSpec[]) =>
      new DetectorSet(buildDetectors(specs, { enabled: true, disabled: [] }));
    expect(set(DEFAULT_DETECTOR_SPECS).canObserveBytes).toBe(true);
    expect(set(WITH_USER_PATTERNS).canObserveBytes).toBe(true);
    expect(set(NO_LITERAL).canObserveBytes).toBe(false);
    expect(set(CASELESS).canObserveBytes).toBe(false);
  });
});

describe("FrameReader = TextDecoder + LineSplitter", () => {
  for (const maxFrame of [20, 120, 4096]) {
    test(`frames, decoded, bound ${maxFrame}`, () => {
      for (let seed = 1; seed <= 20; seed++) {
        const r = rng(seed * 31 + maxFrame);
        const split = chunks(r, frameStream(r, 80));
        const want: string[] = [];
        const decoder = new TextDecoder("utf-8");
        const splitter = new LineSplitter(maxFrame);
        const keep = (f: string) => {
          if (f !== "") want.push(f); // an empty frame has no tag: nothing reads it
        };
        for (const c of split) splitter.push(decoder.decode(c, { stream: true }), keep);
        splitter.push(decoder.decode(), keep);
        splitter.end(keep);
        const got: string[] = [];
        const reader = new FrameReader(maxFrame, { frame: (f) => got.push(f) });
        for (const c of split) reader.push(c);
        reader.end();
        expect({ seed, got }).toEqual({ seed, got: want });
      }
    });
  }

  test("a frame far longer than the bound is cut once and the rest dropped, across chunks", () => {
    const got: string[] = [];
    const reader = new FrameReader(10, { frame: (f) => got.push(f) });
    reader.push(enc.encode(`O${"é".repeat(30)}`));
    reader.push(enc.encode("x".repeat(100)));
    reader.push(enc.encode("tail\r"));
    reader.push(enc.encode("\nOnext\n"));
    reader.end();
    expect(got).toEqual([`O${"é".repeat(9)}${LINE_CUT_MARKER}`, "Onext"]);
  });
});
