/**
 * @module
 * The signature pack as configured (`signatures.enabled`, `signatures.disabled`): a cheap pre-test
 * over the standalone signatures (their required literals) and the exact trigger behind it,
 * the first matching signature of a line, and the naming of other detectors' detections.
 */
import type { Detection } from "../../core/types.ts";
import { literalPreTest } from "../required-literals.ts";
import type { SignatureName } from "./names.ts";
import { SIGNATURES, type SignatureDef } from "./pack.ts";

export interface SignaturesConfig {
  enabled: boolean;
  disabled: readonly string[];
}

export interface SignatureMatch {
  def: SignatureDef;
  match: RegExpExecArray;
}

export class SignaturePack {
  readonly defs: readonly SignatureDef[];
  /** The standalone signatures, in order. */
  readonly standalone: readonly SignatureDef[];
  /**
   * One alternation of the standalone signatures' regexes: whether a line is a standalone failure
   * (about 2.7 µs a line: run it on the lines that passed {@link preTest}).
   */
  readonly trigger: RegExp | null;
  /**
   * A regex source that matches every line {@link trigger} matches, made of the signatures'
   * required literals (src/detectors/required-literals.ts): cheap enough to run on every line (the
   * detector set folds it into its combined pre-test), while {@link trigger} itself costs several
   * microseconds a line. Null when no signature is standalone.
   */
  readonly preTest: string | null;
  /** The standalone signatures' regex sources (the detector set builds its pre-test from them). */
  readonly sources: readonly string[];

  constructor(disabled: readonly string[] = []) {
    const off = new Set(disabled);
    this.defs = SIGNATURES.filter((d) => !off.has(d.name));
    this.standalone = this.defs.filter((d) => d.standalone);
    this.trigger =
      this.standalone.length > 0
        ? new RegExp(this.standalone.map((d) => `(?:${d.re.source})`).join("|"))
        : null;
    // literals are read case-sensitively, without `m`/`s`: a flagged regex keeps the detector on
    // its own path (reading the ring on ticks)
    const plain = this.standalone.every((d) => d.re.flags === "");
    this.sources = this.standalone.map((d) => d.re.source);
    this.preTest = this.standalone.length > 0 && plain ? literalPreTest(this.sources) : null;
  }

  /**
   * The pack for a config, or null when it is switched off. No config at all (a caller that does
   * not know about signatures) also means no pack, so such callers see exactly the detectors they
   * configured.
   */
  static from(cfg: SignaturesConfig | undefined): SignaturePack | null {
    if (cfg === undefined) return null;
    return cfg.enabled ? new SignaturePack(cfg.disabled) : null;
  }

  /** The first standalone signature found in `line` (call after {@link trigger} matched). */
  matchLine(line: string): SignatureMatch | null {
    for (const def of this.standalone) {
      const m = def.re.exec(line);
      if (m) return { def, match: m };
    }
    return null;
  }

  /** The first signature (standalone or not) found in `text`. */
  matchText(text: string): SignatureMatch | null {
    for (const def of this.defs) {
      const m = def.re.exec(text);
      if (m) return { def, match: m };
    }
    return null;
  }

  /** True when `name` is active. */
  has(name: SignatureName): boolean {
    return this.defs.some((d) => d.name === name);
  }

  /**
   * Name `d` after the first signature found in its message (then in its trace's exception
   * messages): sets `signatureName`, `signatureKind`, `explanation` and the same three in `meta` (so
   * they reach the incident record and its report). Returns `d`.
   */
  annotate(d: Detection, ...texts: string[]): Detection {
    if (d.signatureName !== undefined) return d;
    let found = this.matchText(d.message);
    for (let i = 0; found === null && i < texts.length; i++) found = this.matchText(texts[i]!);
    const exceptions = d.trace?.exceptions ?? [];
    for (let i = exceptions.length - 1; found === null && i >= 0; i--) {
      const e = exceptions[i]!;
      found = this.matchText(`${e.type ?? ""}: ${e.message}`);
    }
    if (found !== null) applySignature(d, found);
    return d;
  }
}

/** Put a match's name, kind and explanation on `d` (fields and meta). */
export function applySignature(d: Detection, s: SignatureMatch): void {
  d.signatureName = s.def.name;
  d.signatureKind = s.def.kind;
  d.explanation = s.def.explain(s.match);
  d.meta["signature_name"] = d.signatureName;
  d.meta["signature_kind"] = d.signatureKind;
  d.meta["explanation"] = d.explanation;
}
