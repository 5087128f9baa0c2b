/**
 * @module
 * The one redactor that config snapshots, log excerpts, traces, state.json copies, source frames
 * and everything sent to an agent or a chat pass through.
 *
 * Passes, in order: PEM private-key blocks and known secret values (whole text: values of
 * secret-named variables in the config env and autosentry's own env), then per line: credentials in URLs,
 * values of secret-looking keys (see key-value.ts and secret-key.ts), `--password value` flags,
 * `curl -u user:password`,
 * known token shapes (prefixes, webhooks, JWT, bearer); last, the user's extra patterns over the
 * whole text. Each pass leaves `[REDACTED]` behind and skips values that already contain it, so
 * redacting twice changes nothing. Allow-listed values are never replaced.
 */
import {
  redactFlags,
  redactKnownShapes,
  redactPem,
  redactUrlCredentials,
  redactUserFlag,
} from "./free-text.ts";
import { redactBlockLine, redactKeyValues } from "./key-value.ts";
import { knownSecretValues, redactKnownValues } from "./known-values.ts";
import { isSecretKey, isSignatureKey } from "./secret-key.ts";
import { isHarmless, type KeepFn, looksLikeSecret, REDACTED } from "./values.ts";

export { isSecretKey } from "./secret-key.ts";
export { REDACTED } from "./values.ts";

export interface RedactorOptions {
  /** More patterns: the whole match, or group 1 when the pattern has one, is replaced. */
  extraPatterns?: RegExp[];
  /** Values that are never replaced (exact match), e.g. a published test key. */
  allow?: string[];
  /**
   * Environments whose secret-named variables' values are hidden wherever they appear (see
   * known-values.ts): the config's `process.env`. autosentry's own environment (`process.env`) is
   * always added, unless `ownEnv` is false.
   */
  secretEnvs?: Array<Record<string, string | undefined> | undefined>;
  ownEnv?: boolean;
}

export interface Redactor {
  /** Free text (logs, traces, config files, .env, YAML, JSON text). */
  redact(text: string): string;
  /** An environment: values of secret-looking names are replaced whole, others redacted as text. */
  redactEnv(env: Record<string, string>): Record<string, string>;
  /** A parsed JSON value: secret-keyed values replaced, every other string redacted as text. */
  redactJson(value: unknown): unknown;
  /** Add the secret-named values of `env` (set at run time) to the known values. */
  learn(env: Record<string, string | undefined>): void;
  /** How many times {@link learn} added values: a redaction remembered under another count may be stale. */
  learned(): number;
}

const MAX_DEPTH = 64;
const FLAG_NAME = /^--?[A-Za-z][\w-]*$/;
const AUTH_SCHEME = /^([A-Za-z][A-Za-z0-9-]*[ \t]+)\S/;

/** Build a redactor; `opts` usually comes from the `redaction` section of the config. */
/** Texts up to this length have their redaction remembered (see `memo` in createRedactor). */
const MEMO_MAX_TEXT = 512;
/**
 * Remembered redactions per generation of the memo (two generations: at most twice this many).
 * Enough for the texts every incident repeats (a restart history of 200 records, ~1,200 strings).
 */
const MEMO_GENERATION = 2048;
/** Remembered line redactions per generation (see `lineMemo` in createRedactor). */
const LINE_MEMO_GENERATION = 512;

/** One line redacted, and the indent of the secret block it opens (null: none). */
interface LineRedaction {
  line: string;
  blockIndent: number | null;
}

/** A remembered {@link LineRedaction} and the line it is for. */
interface RememberedLine extends LineRedaction {
  key: string;
}

/**
 * `line` and its redaction as strings of their own. A line split from a long text may be a view
 * into that text and keep all of it alive: remembered as such, 1,024 lines of 5 kB log excerpts
 * held megabytes (the crash-cycle scenario's RSS growth doubled, issue 16's target).
 */
function ownCopy(line: string, done: LineRedaction): RememberedLine {
  const key = JSON.parse(JSON.stringify(line)) as string;
  const out = done.line === line ? key : (JSON.parse(JSON.stringify(done.line)) as string);
  return { key, line: out, blockIndent: done.blockIndent };
}

export function createRedactor(opts: RedactorOptions = {}): Redactor {
  const allow = new Set(opts.allow ?? []);
  const keep: KeepFn = (v) => allow.has(v);
  let known = knownSecretValues(
    ...(opts.ownEnv === false ? [] : [process.env]),
    ...(opts.secretEnvs ?? []),
  ).filter((v) => !keep(v));
  const extra = (opts.extraPatterns ?? []).map((re) => {
    const flags = new Set(re.flags.split(""));
    flags.add("g");
    flags.add("d");
    flags.delete("y");
    return new RegExp(re.source, [...flags].join(""));
  });

  function applyExtra(text: string, re: RegExp): string {
    let out = "";
    let last = 0;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = m.indices?.[1] ?? m.indices?.[0];
      if (!span || span[0] < last) continue;
      const value = text.slice(span[0], span[1]);
      if (value.length === 0 || value === REDACTED || keep(value)) continue;
      out += text.slice(last, span[0]) + REDACTED;
      last = span[1];
    }
    return out + text.slice(last);
  }

  /**
   * Results of {@link redact} for short texts, which repeat: every incident's state.json holds the
   * same restart history again, and redacting it afresh cost ~2 ms of each restart (issue 13). A
   * pure function of the text while the known secrets stay the same; `learn` clears it.
   *
   * Two generations: texts go into `memo`; when it is full it becomes `older` and a new one starts;
   * a text found in `older` moves back. Texts that repeat stay; the ones seen once (ids, times,
   * generation numbers: a few per incident) go after two generations. With one map cleared when
   * full, those filled it up to 8,192 entries (~2 MB) before it started afresh: in the crash-cycle
   * chaos scenario, growth of the monitor's memory over the first thousands of cycles (issue 16).
   */
  let memo = new Map<string, string>();
  let older = new Map<string, string>();

  function redact(text: string): string {
    if (text.length === 0) return text;
    if (text.length > MEMO_MAX_TEXT) return redactNow(text);
    const hit = memo.get(text);
    if (hit !== undefined) return hit;
    const out = older.get(text) ?? redactNow(text);
    if (memo.size >= MEMO_GENERATION) {
      older = memo;
      memo = new Map();
    }
    memo.set(text, out);
    return out;
  }

  function redactNow(text: string): string {
    const lines = redactKnownValues(redactPem(text), known, REDACTED).split("\n");
    let blockIndent: number | null = null;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (blockIndent !== null) {
        const indent = /^\s*/.exec(line)![0].length;
        if (line.trim().length === 0) continue;
        if (indent > blockIndent) {
          lines[i] = redactBlockLine(line);
          continue;
        }
        blockIndent = null;
      }
      const done = redactLine(line);
      lines[i] = done.line;
      blockIndent = done.blockIndent;
    }
    let out = lines.join("\n");
    for (const re of extra) out = applyExtra(out, re);
    return out;
  }

  /**
   * Results of {@link redactLineNow} for lines (outside a secret block) of long texts, which
   * repeat: an incident's log excerpt is mostly the lines the previous incident's excerpt held
   * (issue 13: redacting them afresh cost ~0.5 ms of each crash cycle). A pure function of the line
   * (the known values and PEM blocks are hidden in the whole text before, the extra patterns after).
   * Two generations as {@link memo}, smaller: at most 2 × {@link LINE_MEMO_GENERATION} lines.
   */
  let lineMemo = new Map<string, RememberedLine>();
  let lineOlder = new Map<string, RememberedLine>();

  function redactLine(line: string): LineRedaction {
    if (line.length > MEMO_MAX_TEXT) return redactLineNow(line);
    const hit = lineMemo.get(line);
    if (hit !== undefined) return hit;
    const out = lineOlder.get(line) ?? ownCopy(line, redactLineNow(line));
    if (lineMemo.size >= LINE_MEMO_GENERATION) {
      lineOlder = lineMemo;
      lineMemo = new Map();
    }
    lineMemo.set(out.key, out);
    return out;
  }

  function redactLineNow(text: string): LineRedaction {
    let line = redactUrlCredentials(text, keep);
    const kv = redactKeyValues(line, keep);
    line = redactFlags(kv.line, keep);
    line = redactUserFlag(line, keep);
    return { line: redactKnownShapes(line, keep), blockIndent: kv.blockIndent };
  }

  /** The whole value of a secret key: keep an auth scheme (`Bearer `), hide the rest. */
  function redactSecretString(key: string, value: string): string {
    if (isHarmless(value) || keep(value)) return value;
    if (isSignatureKey(key) && !looksLikeSecret(value)) return redact(value); // words, not a signature
    if (/authorization$/i.test(key)) {
      const scheme = AUTH_SCHEME.exec(value);
      if (scheme) return isHarmless(value.slice(scheme[1]!.length)) ? value : scheme[1] + REDACTED;
    }
    return REDACTED;
  }

  function redactEnv(env: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) out[k] = isSecretKey(k) ? redactSecretString(k, v) : redact(v);
    return out;
  }

  /** Everything under a secret key: strings and numbers hidden, structure kept. */
  function hideLeaves(key: string, value: unknown, depth: number): unknown {
    if (typeof value === "string") return redactSecretString(key, value);
    if (typeof value === "number" || typeof value === "bigint") return REDACTED;
    if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) return value.map((v) => hideLeaves(key, v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = hideLeaves(k, v, depth + 1);
    return out;
  }

  function walk(value: unknown, depth: number): unknown {
    if (typeof value === "string") return redact(value);
    if (depth > MAX_DEPTH || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
      // argv arrays: ["--token", "abc"] hides the element after a secret flag.
      return value.map((v, i) => {
        const prev = value[i - 1];
        if (typeof v === "string" && typeof prev === "string" && FLAG_NAME.test(prev) && isSecretKey(prev)) {
          return redactSecretString(prev, v);
        }
        return walk(v, depth + 1);
      });
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) ? hideLeaves(k, v, depth + 1) : walk(v, depth + 1);
    }
    return out;
  }

  let learnedCount = 0;
  function learn(env: Record<string, string | undefined>): void {
    const more = knownSecretValues(env).filter((v) => !keep(v) && !known.includes(v));
    if (more.length > 0) {
      learnedCount++;
      known = [...known, ...more].sort((a, b) => b.length - a.length);
      memo = new Map();
      older = new Map();
    }
  }

  return { redact, redactEnv, redactJson: (value) => walk(value, 0), learn, learned: () => learnedCount };
}
