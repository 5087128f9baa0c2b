/**
 * @module
 * The detection corpus scorer. tests/corpus/manifest.jsonl lists every log of the corpus: its file
 * (under tests/corpus/), the public log it is modelled on (`source`, a URL, and `shape`, what of its
 * structure was kept), and what must be found (`expect`). Each log is scanned exactly as
 * `autosentry scan` scans a file without a config (the default detectors, the signature pack on),
 * and compared:
 *
 * - a failure log (`expect.detected: true`) must produce at least one detection; its primary hit
 *   (the first traceback detection, else the first detection naming an exception type, else the
 *   first detection) must have `expect.exception_type` and, when given, the innermost frame
 *   `expect.frame` (`file:line`; null when no frame is expected), and every `expect.signature`
 *   must be among the log's detections, and, when given, its final exception's whole message
 *   (every line) must be `expect.message` (where the message ends: a log record after it is not
 *   part of it);
 * - a healthy log (`expect.detected: false`) must produce no detection at all.
 *
 *   bun tests/corpus/score.ts [--verbose]     prints the score (and each miss with --verbose)
 *
 * src/detectors/corpus.test.ts runs it in CI with the thresholds of issue 12.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildDetectors } from "../../src/detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../../src/detectors/defaults.ts";
import { innermostFrame, projectFrame } from "../../src/detectors/project-frame.ts";
import { type ScanHit, scanText } from "../../src/detectors/scanner.ts";

export const CORPUS_DIR = import.meta.dir;

export interface Expectation {
  detected: boolean;
  exception_type?: string | null;
  /** `file:line` of the innermost frame of the primary hit; null: it has no frame. */
  frame?: string | null;
  /** `file:line` of the innermost project frame, when the log has one worth checking. */
  project_frame?: string | null;
  /** Signature names that must be among the detections. */
  signature?: string | string[];
  /** The primary hit's final exception's message, all its lines (`\n`-joined), exact. */
  message?: string;
}

export interface Entry {
  file: string;
  category: string;
  source: string;
  shape: string;
  expect: Expectation;
}

export interface LogResult {
  entry: Entry;
  hits: number;
  detected: boolean;
  typeOk: boolean;
  frameOk: boolean;
  signatureOk: boolean;
  projectOk: boolean;
  messageOk: boolean;
  got: {
    exception_type: string | null;
    frame: string | null;
    signatures: string[];
    project_frame: string | null;
    message: string | null;
  };
}

export interface Score {
  results: LogResult[];
  failures: number;
  healthy: number;
  detected: number;
  falsePositives: number;
  typeExact: number;
  frameExact: number;
  signatureExact: number;
  signatureChecked: number;
  projectExact: number;
  projectChecked: number;
}

/** Read the manifest (throws naming the line of a bad entry). */
export function readManifest(dir = CORPUS_DIR): Entry[] {
  const text = fs.readFileSync(path.join(dir, "manifest.jsonl"), "utf8");
  const out: Entry[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("//")) return;
    let e: Entry;
    try {
      e = JSON.parse(line) as Entry;
    } catch (err) {
      throw new Error(`manifest.jsonl line ${i + 1}: ${(err as Error).message}`);
    }
    if (typeof e.file !== "string" || typeof e.source !== "string" || !/^https?:\/\//.test(e.source))
      throw new Error(`manifest.jsonl line ${i + 1}: needs file and a source URL`);
    if (typeof e.shape !== "string" || e.shape.length < 10)
      throw new Error(`manifest.jsonl line ${i + 1}: needs the shape of the source log`);
    if (typeof e.expect?.detected !== "boolean")
      throw new Error(`manifest.jsonl line ${i + 1}: needs expect.detected`);
    out.push(e);
  });
  return out;
}

/** The hit whose exception type and frame are scored. */
export function primaryHit(hits: ScanHit[]): ScanHit | null {
  return (
    hits.find((h) => h.detection.detectorKind === "traceback") ??
    hits.find((h) => h.detection.exceptionType !== undefined) ??
    hits[0] ??
    null
  );
}

function where(f: { file: string; line: number } | null): string | null {
  return f === null ? null : `${f.file}:${f.line}`;
}

/** Scan one log as `autosentry scan` does without a config. */
export function scanLog(text: string): ScanHit[] {
  return scanText(text, buildDetectors(DEFAULT_DETECTOR_SPECS, { enabled: true, disabled: [] }));
}

/** Score one entry. */
export function scoreEntry(entry: Entry, dir = CORPUS_DIR): LogResult {
  const text = fs.readFileSync(path.join(dir, entry.file), "utf8");
  const hits = scanLog(text);
  const p = primaryHit(hits);
  const signatures = [
    ...new Set(hits.flatMap((h) => (h.detection.signatureName ? [h.detection.signatureName] : []))),
  ];
  const got = {
    exception_type: p?.detection.exceptionType ?? null,
    frame: p ? where(innermostFrame(p.detection)) : null,
    signatures,
    project_frame: p ? where(projectFrame(p.detection)) : null,
    message: p?.detection.trace?.exceptions.at(-1)?.message ?? null,
  };
  const x = entry.expect;
  const want = x.signature === undefined ? [] : Array.isArray(x.signature) ? x.signature : [x.signature];
  return {
    entry,
    hits: hits.length,
    detected: hits.length > 0,
    typeOk: !x.detected || (x.exception_type ?? null) === got.exception_type,
    frameOk: !x.detected || x.frame === undefined || x.frame === got.frame,
    signatureOk: want.every((s) => signatures.includes(s)),
    projectOk: x.project_frame === undefined || x.project_frame === got.project_frame,
    messageOk: x.message === undefined || x.message === got.message,
    got,
  };
}

/** Score the whole corpus. */
export function scoreCorpus(dir = CORPUS_DIR): Score {
  const results = readManifest(dir).map((e) => scoreEntry(e, dir));
  const fail = results.filter((r) => r.entry.expect.detected);
  const healthy = results.filter((r) => !r.entry.expect.detected);
  const sig = results.filter((r) => r.entry.expect.signature !== undefined);
  const proj = results.filter((r) => r.entry.expect.project_frame !== undefined);
  return {
    results,
    failures: fail.length,
    healthy: healthy.length,
    detected: fail.filter((r) => r.detected).length,
    falsePositives: healthy.filter((r) => r.detected).length,
    typeExact: fail.filter((r) => r.typeOk).length,
    frameExact: fail.filter((r) => r.frameOk).length,
    signatureExact: sig.filter((r) => r.signatureOk).length,
    signatureChecked: sig.length,
    projectExact: proj.filter((r) => r.projectOk).length,
    projectChecked: proj.length,
  };
}

const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(1)} %`);

/** The score as the lines docs/detection.md quotes. */
export function scoreText(s: Score): string {
  return [
    `failure logs: ${s.failures}, healthy logs: ${s.healthy}`,
    `detected: ${s.detected}/${s.failures} (${pct(s.detected, s.failures)})`,
    `false positives: ${s.falsePositives}/${s.healthy}`,
    `exception type exact: ${s.typeExact}/${s.failures} (${pct(s.typeExact, s.failures)})`,
    `innermost frame exact: ${s.frameExact}/${s.failures} (${pct(s.frameExact, s.failures)})`,
    `signature named: ${s.signatureExact}/${s.signatureChecked} (${pct(s.signatureExact, s.signatureChecked)})`,
    `project frame exact: ${s.projectExact}/${s.projectChecked} (${pct(s.projectExact, s.projectChecked)})`,
  ].join("\n");
}

if (import.meta.main) {
  const s = scoreCorpus();
  const byCat = new Map<string, { n: number; ok: number }>();
  for (const r of s.results) {
    const ok = r.entry.expect.detected
      ? r.detected && r.typeOk && r.frameOk && r.signatureOk && r.projectOk && r.messageOk
      : !r.detected;
    const c = byCat.get(r.entry.category) ?? { n: 0, ok: 0 };
    c.n++;
    if (ok) c.ok++;
    byCat.set(r.entry.category, c);
    if (!ok && process.argv.includes("--verbose")) {
      console.log(
        `MISS ${r.entry.file}: want ${JSON.stringify(r.entry.expect)} got ${JSON.stringify(r.got)} hits=${r.hits}`,
      );
    }
  }
  console.log(scoreText(s));
  console.log([...byCat].map(([k, v]) => `  ${k}: ${v.ok}/${v.n} fully right`).join("\n"));
}
