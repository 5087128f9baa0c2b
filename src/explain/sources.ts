/**
 * @module
 * Bounded, redacted evidence for `autosentry explain`. Every source is read from the end of its
 * file within a fixed window (never the whole of a large log), redacted as a whole, then cut to the
 * per-source cap at a line boundary with a marker saying what was left out; the collector stops
 * adding sources at the total cap and lists what it left out.
 *
 * Redaction happens before the cut and on a window starting at a line, so no secret is split by
 * the cut; a private-key body whose BEGIN line lies before the window is hidden by
 * {@link redactHeadlessPem}.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { redactHeadlessPem } from "../incidents/pem-guard.ts";

/** What the bundle uses to hide secrets (the project's one redactor). */
export interface BundleRedactor {
  redact(text: string): string;
  redactJson(value: unknown): unknown;
}

export interface Caps {
  /** Bytes per source (its tail is kept). */
  perSource: number;
  /** Bytes of all sources together. */
  total: number;
}

export const DEFAULT_CAPS: Caps = { perSource: 32 * 1024, total: 512 * 1024 };

/** Marker at the top of a source that was cut. */
export const OMITTED_MARKER = "[Earlier content omitted]";

/** The last `maxBytes` of `file`, starting at a line; null when the file cannot be read. */
export function readTail(
  file: string,
  maxBytes: number,
): { text: string; size: number; cut: boolean } | null {
  let fd: number | undefined;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return null;
    const start = Math.max(0, st.size - maxBytes);
    fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(st.size - start);
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    let text = buf.subarray(0, n).toString("utf8");
    if (start > 0) {
      const nl = text.indexOf("\n");
      text = nl === -1 ? "" : text.slice(nl + 1);
    }
    return { text, size: st.size, cut: start > 0 };
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The last `maxBytes` (UTF-8) of `text`, starting at a line, with the omitted marker when cut. */
export function capTail(text: string, maxBytes: number, alreadyCut = false): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes && !alreadyCut) return text;
  let tail = text;
  if (bytes > maxBytes) {
    const buf = Buffer.from(text);
    tail = buf.subarray(bytes - maxBytes).toString("utf8");
    const nl = tail.indexOf("\n");
    tail = nl === -1 ? "" : tail.slice(nl + 1);
  }
  return `${OMITTED_MARKER}\n${tail}`;
}

/** The last `n` lines of `text` (a trailing newline does not count as a line). */
export function lastLines(text: string, n: number): { text: string; cut: boolean } {
  if (n <= 0) return { text: "", cut: text.length > 0 };
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  let idx = body.length;
  for (let i = 0; i < n; i++) {
    const prev = body.lastIndexOf("\n", idx - 1);
    if (prev === -1) return { text, cut: false };
    idx = prev;
  }
  return { text: `${body.slice(idx + 1)}\n`, cut: true };
}

/** One piece of evidence: where it came from and its (redacted, capped) text. */
export interface Source {
  /** Path relative to the project root (absolute when outside it). */
  path: string;
  text: string;
}

/** Collects sources within the caps; see the module comment. */
export class SourceCollector {
  readonly sources: Source[] = [];
  readonly omissions: string[] = [];
  private used = 0;

  constructor(
    private readonly root: string,
    private readonly redactor: BundleRedactor,
    private readonly caps: Caps = DEFAULT_CAPS,
  ) {}

  /** `file` as the bundle cites it. */
  cite(file: string): string {
    const rel = path.relative(this.root, file);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
  }

  /** Note something that was left out, and why. */
  omit(what: string): void {
    this.omissions.push(what);
  }

  /** Add text already read (`cut`: it is a tail of something longer). Redacts and caps it. */
  addText(file: string, raw: string, cut = false, label = ""): boolean {
    const text = capTail(this.redactor.redact(redactHeadlessPem(raw)), this.caps.perSource, cut);
    return this.push(`${this.cite(file)}${label}`, text);
  }

  /** A text file's tail (at most `lines` lines when given). Missing files are noted. */
  addFile(file: string, opts: { lines?: number; optional?: boolean } = {}): boolean {
    const got = readTail(file, this.caps.perSource * 4);
    if (got === null) {
      if (!opts.optional) this.omit(`${this.cite(file)}: not found`);
      return false;
    }
    let { text, cut } = got;
    if (opts.lines !== undefined) {
      const last = lastLines(text, opts.lines);
      text = last.text;
      cut ||= last.cut;
    }
    return this.addText(
      file,
      text,
      cut,
      opts.lines !== undefined ? ` (last ${opts.lines} lines at most)` : "",
    );
  }

  /** A JSON file, redacted value by value (secret keys hidden whole), pretty-printed. */
  addJsonFile(file: string, opts: { optional?: boolean } = {}): unknown {
    const got = readTail(file, this.caps.perSource * 4);
    if (got === null || got.cut) {
      if (got !== null) this.omit(`${this.cite(file)}: larger than ${this.caps.perSource * 4} bytes`);
      else if (!opts.optional) this.omit(`${this.cite(file)}: not found`);
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(got.text);
    } catch {
      this.addText(file, got.text);
      return null;
    }
    const clean = this.redactor.redactJson(value);
    this.push(this.cite(file), capTail(`${JSON.stringify(clean, null, 2)}\n`, this.caps.perSource));
    return clean;
  }

  /** JSON lines (already selected), each redacted as a value. */
  addJsonLines(file: string, records: unknown[], label = ""): boolean {
    const text = records.map((r) => JSON.stringify(this.redactor.redactJson(r))).join("\n");
    return this.push(
      `${this.cite(file)}${label}`,
      capTail(text === "" ? "" : `${text}\n`, this.caps.perSource),
    );
  }

  private push(citation: string, text: string): boolean {
    const bytes = Buffer.byteLength(text);
    if (this.used + bytes > this.caps.total) {
      this.omit(`${citation}: left out, the bundle reached its total limit of ${this.caps.total} bytes`);
      return false;
    }
    this.used += bytes;
    this.sources.push({ path: citation, text });
    return true;
  }
}
