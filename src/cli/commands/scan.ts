/**
 * @module
 * `autosentry scan FILE [-c PATH] [--json]`: run the configured detectors over an existing log file
 * offline and list what they find. Lines are split as the monitor splits them; traces still open at
 * the end of the file are closed; no cooldowns apply. Stall and exit-code detectors need a live
 * child, so they never fire here. Without a config file the default detector set is used. The
 * signature pack (`signatures:` in the config, on by default) names each detection (`cuda_oom`,
 * `oom_killer`, …) and explains it in one line; `--json` also gives the innermost frame and the
 * innermost *project* frame (the first one not in site-packages, the stdlib, node_modules, the Go
 * runtime …).
 *
 * Exit status: 0 whether or not anything was found (this is a report, not grep); 2 when the file
 * cannot be read or the config is bad.
 */
import * as fs from "node:fs";
import type { DetectorSpec } from "../../config/schema.ts";
import type { Frame } from "../../core/types.ts";
import { buildDetectors } from "../../detectors/build.ts";
import { DEFAULT_DETECTOR_SPECS } from "../../detectors/defaults.ts";
import { frameText, innermostFrame, projectFrame } from "../../detectors/project-frame.ts";
import { type ScanHit, Scanner } from "../../detectors/scanner.ts";
import type { SignaturesConfig } from "../../detectors/signatures/pack-set.ts";
import { loadConfigForCli } from "../config-option.ts";
import { CliExit, EXIT } from "../exit.ts";
import type { ConfigFlag } from "../tree/config-flag.ts";

/** One line of `scan --json`. */
export interface ScanRecord {
  line: number;
  detector: string;
  kind: string;
  message: string;
  exception_type: string | null;
  language: string | null;
  /** The final exception's frames, innermost first: `[file, line, function]`. */
  frames: [string, number, string | null][];
  /** The built-in signature the detection matched, its kind and one-line explanation. */
  signature: string | null;
  signature_kind: string | null;
  explanation: string | null;
  /** The innermost frame of the final exception: `[file, line, function]`. */
  innermost_frame: [string, number, string | null] | null;
  /** The innermost frame that is the project's own code (not a library, stdlib or runtime). */
  project_frame: [string, number, string | null] | null;
}

function triple(f: Frame | null): [string, number, string | null] | null {
  return f === null ? null : [f.file, f.line, f.function];
}

/** What the detectors and the line bound are for a scan: from the config, or the defaults. */
export function scanSettings(opts: { config?: string | undefined }): {
  specs: DetectorSpec[];
  maxLineLength: number;
  note: string | null;
  signatures: SignaturesConfig;
} {
  const cfg = loadConfigForCli(opts, { allowMissing: true });
  const signatures = cfg.data.signatures;
  if (cfg.path === null) {
    return {
      specs: DEFAULT_DETECTOR_SPECS,
      maxLineLength: cfg.data.monitor.max_line_length,
      note: null,
      signatures,
    };
  }
  const specs = cfg.data.detectors;
  const note =
    specs.length === 0
      ? `autosentry scan: ${cfg.path} configures no detectors (exit_code alone does not apply to a log file)`
      : null;
  return { specs, maxLineLength: cfg.data.monitor.max_line_length, note, signatures };
}

/** Scan a file with `specs`; throws CliExit(2) when it cannot be read. */
export async function scanFile(
  file: string,
  specs: DetectorSpec[],
  maxLineLength: number,
  signatures?: SignaturesConfig,
): Promise<ScanHit[]> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliExit(
      EXIT.usage,
      `autosentry scan: Cannot read ${file}: ${code === "ENOENT" ? "file not found" : (err as Error).message}`,
    );
  }
  if (stat.isDirectory())
    throw new CliExit(EXIT.usage, `autosentry scan: Cannot read ${file}: is a directory`);
  const scanner = new Scanner(buildDetectors(specs, signatures), maxLineLength);
  const decoder = new TextDecoder();
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliExit(
      EXIT.usage,
      `autosentry scan: Cannot read ${file}: ${code === "EACCES" ? "permission denied" : (err as Error).message}`,
    );
  }
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      scanner.push(decoder.decode(buf.subarray(0, n), { stream: true }));
    }
    scanner.push(decoder.decode());
  } finally {
    fs.closeSync(fd);
  }
  return scanner.end();
}

/** The `--json` record of a hit. */
export function scanRecord(h: ScanHit): ScanRecord {
  const d = h.detection;
  const last = d.trace?.exceptions.at(-1);
  return {
    line: h.line,
    detector: d.detector,
    kind: d.kind,
    message: d.message,
    exception_type: d.exceptionType ?? null,
    language: d.trace?.language ?? null,
    frames: (last?.frames ?? []).map((f) => [f.file, f.line, f.function]),
    signature: d.signatureName ?? null,
    signature_kind: d.signatureKind ?? null,
    explanation: d.explanation ?? null,
    innermost_frame: triple(innermostFrame(d)),
    project_frame: triple(projectFrame(d)),
  };
}

const MAX_FRAMES_SHOWN = 10;

/** One human-readable block per hit. */
export function renderHit(h: ScanHit): string {
  const r = scanRecord(h);
  const source = h.detection.meta["source"];
  const from = typeof source === "string" ? ` [${source}]` : "";
  const out = [`line ${r.line}: ${r.detector} (${r.kind})${from}: ${r.message}`];
  const chain = h.detection.trace?.exceptions ?? [];
  if (chain.length > 1) {
    out.push(`  chain (first raised → final): ${chain.map((e) => e.type ?? "?").join(" → ")}`);
  }
  if (r.language !== null) {
    out.push(
      `  ${r.language} trace, ${r.frames.length} frame${r.frames.length === 1 ? "" : "s"} (innermost first)`,
    );
    for (const [file, line, fn] of r.frames.slice(0, MAX_FRAMES_SHOWN)) {
      out.push(`    ${file}:${line}${fn ? ` in ${fn}` : ""}`);
    }
    if (r.frames.length > MAX_FRAMES_SHOWN) out.push(`    … ${r.frames.length - MAX_FRAMES_SHOWN} more`);
  }
  const project = projectFrame(h.detection);
  if (project !== null) out.push(`  project frame (where to look first): ${frameText(project)}`);
  if (r.signature !== null)
    out.push(`  signature ${r.signature} (${r.signature_kind}): ${r.explanation ?? ""}`);
  else if (r.explanation !== null) out.push(`  meaning: ${r.explanation}`);
  return out.join("\n");
}

/** `scan`'s options. */
interface ScanCliOptions extends ConfigFlag {
  json?: boolean | undefined;
}

/** What `autosentry scan` does (its options are declared in src/cli/tree/scan.ts). */
export async function scanCommand(file: string, opts: ScanCliOptions): Promise<void> {
  const { specs, maxLineLength, note, signatures } = scanSettings(opts);
  if (note !== null) process.stderr.write(`${note}\n`);
  const hits = await scanFile(file, specs, maxLineLength, signatures);
  if (opts.json) {
    process.stdout.write(hits.map((h) => `${JSON.stringify(scanRecord(h))}\n`).join(""));
    return;
  }
  if (hits.length === 0) {
    process.stdout.write(`No detections in ${file}.\n`);
    return;
  }
  process.stdout.write(`${hits.map(renderHit).join("\n\n")}\n\n`);
  process.stdout.write(`${hits.length} detection${hits.length === 1 ? "" : "s"} in ${file}.\n`);
}
