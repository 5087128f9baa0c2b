/**
 * @module
 * The ingest benchmark's grep side: every regex the default detector set (with the signature pack)
 * searches in a line, translated from JavaScript syntax to a POSIX ERE for `grep -E`, joined into
 * one alternation. Built from the detectors' own sources, so a pattern added to the defaults, the
 * traceback trigger or the pack reaches grep too.
 *
 * The translation covers what these sources use: `(?:…)` → `(…)`, `\d` `\s` `\S` `\w` (also in
 * classes), `\t`, escaped punctuation, `\]` in a class. Lookaheads (`(?!SUCCESS)`) have no ERE form
 * and are dropped, which makes grep's pattern slightly looser (never stricter) than ours. An escape
 * it does not know throws, so the bench cannot silently give grep less to do.
 */
import type { DetectorSpec } from "../../src/config/schema.ts";
import { SignaturePack } from "../../src/detectors/signatures/pack-set.ts";
import { TRACE_TRIGGER } from "../../src/detectors/traceback/markers.ts";

const CLASS_ESCAPES: Record<string, string> = { d: "0-9", s: "[:space:]", w: "[:alnum:]_" };
const ESCAPES: Record<string, string> = {
  d: "[0-9]",
  D: "[^0-9]",
  s: "[[:space:]]",
  S: "[^[:space:]]",
  w: "[[:alnum:]_]",
  W: "[^[:alnum:]_]",
  b: "\\b",
  t: "\t",
};

/** One JavaScript regex source (no flags) as a POSIX ERE. */
export function toERE(src: string): string {
  let out = "";
  let i = 0;
  const groups: boolean[] = []; // per open group: dropped (a lookahead)?
  let dropDepth = 0;
  const emit = (s: string) => {
    if (dropDepth === 0) out += s;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\\") {
      const e = src[i + 1]!;
      if (ESCAPES[e] !== undefined) emit(ESCAPES[e]);
      else if (/[\\^$.*+?()[\]{}|/\-"' ]/.test(e))
        emit(e === "/" || e === "-" || e === '"' || e === "'" || e === " " ? e : `\\${e}`);
      else throw new Error(`grep-ere: escape \\${e} not translated in /${src}/`);
      i += 2;
    } else if (c === "[") {
      // a class: rebuild its members; `]` goes first, `-` last, escapes become POSIX members
      let j = i + 1;
      let neg = false;
      if (src[j] === "^") {
        neg = true;
        j++;
      }
      let body = "";
      let close = false;
      let dash = false;
      for (; j < src.length && src[j] !== "]"; j++) {
        if (src[j] === "\\") {
          const e = src[++j]!;
          if (CLASS_ESCAPES[e] !== undefined) body += CLASS_ESCAPES[e];
          else if (e === "]") close = true;
          else if (e === "-") dash = true;
          else if (/[\\[^|.*+?(){}/ ]/.test(e)) body += e;
          else throw new Error(`grep-ere: class escape \\${e} not translated in /${src}/`);
        } else body += src[j];
      }
      emit(`[${neg ? "^" : ""}${close ? "]" : ""}${body}${dash ? "-" : ""}]`);
      i = j + 1;
    } else if (c === "(") {
      if (src.startsWith("(?:", i)) {
        groups.push(false);
        emit("(");
        i += 3;
      } else if (src.startsWith("(?!", i) || src.startsWith("(?=", i)) {
        groups.push(true);
        dropDepth++;
        i += 3;
      } else if (src.startsWith("(?", i)) {
        throw new Error(`grep-ere: group ${src.slice(i, i + 4)} not translated in /${src}/`);
      } else {
        groups.push(false);
        emit("(");
        i++;
      }
    } else if (c === ")") {
      const dropped = groups.pop();
      if (dropped) dropDepth--;
      else emit(")");
      i++;
    } else {
      emit(c);
      i++;
    }
  }
  return out;
}

/**
 * The alternation grep is given: the pattern detectors' regexes, the traceback trigger, every
 * standalone signature of the pack, and the stall detectors' metric regexes of `specs`.
 */
export function grepAlternation(specs: readonly DetectorSpec[]): string {
  const sources: string[] = [];
  for (const s of specs) if (s.kind === "pattern" && s.regex) sources.push(s.regex);
  if (specs.some((s) => s.kind === "traceback")) sources.push(TRACE_TRIGGER.source);
  for (const d of new SignaturePack().standalone) sources.push(d.re.source);
  for (const s of specs) if (s.kind === "stall" && s.metric_regex) sources.push(s.metric_regex);
  return sources.map((s) => `(${toERE(s)})`).join("|");
}

/**
 * What a detector set runs on every line, as one ERE: its combined pre-test (`DetectorSet.preTest`)
 * and the stall detectors' metric regexes of `specs`. This is what the ingest benchmarks give grep.
 */
export function perLineERE(preTest: RegExp | null, specs: readonly DetectorSpec[]): string {
  const sources = preTest === null ? [] : [preTest.source];
  for (const s of specs) if (s.kind === "stall" && s.metric_regex) sources.push(s.metric_regex);
  return sources.map((s) => `(${toERE(s)})`).join("|");
}
