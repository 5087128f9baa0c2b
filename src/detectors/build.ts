/**
 * @module
 * Detectors from their config specs.
 */
import { resolveDetectorName } from "../config/detector-names.ts";
import { compileRegex } from "../config/regex.ts";
import type { DetectorSpec } from "../config/schema.ts";
import { buildAdaptiveStall, buildSignalDetector } from "./build-signals.ts";
import { ExitCodeDetector } from "./exit-code.ts";
import { PatternDetector } from "./pattern.ts";
import { SignatureDetector } from "./signatures/detector.ts";
import { SignaturePack, type SignaturesConfig } from "./signatures/pack-set.ts";
import { StallDetector } from "./stall.ts";
import { TracebackDetector } from "./traceback/detector.ts";
import type { Detector } from "./types.ts";

/** Seconds between two passed-on detections of one detector, unless its spec says otherwise. */
export const DEFAULT_COOLDOWN_SECONDS = 60;

/** Name of the detector the signature pack adds (rules can match it with `detector: signatures`). */
export const SIGNATURES_DETECTOR = "signatures";

/**
 * One detector per spec, plus an `exit_code` detector when no spec has that kind (so a crash is
 * never ignored), plus the signature detector while the pack is on (`signatures.enabled`, the
 * default; a caller that passes no `signatures` gets no pack: exactly the detectors configured). Traceback and exit-code
 * detections are named after the pack's signatures too. Throws when a regex does not compile (the
 * config loader reports it earlier).
 */
export function buildDetectors(specs: DetectorSpec[], signatures?: SignaturesConfig): Detector[] {
  const pack = SignaturePack.from(signatures);
  const out = specs.map((s, i) => buildDetector(s, i, pack));
  if (!specs.some((s) => s.kind === "exit_code")) out.push(new ExitCodeDetector("exit_code", true, 0, pack));
  if (pack !== null && pack.trigger !== null) {
    const sig = new SignatureDetector(SIGNATURES_DETECTOR, pack, DEFAULT_COOLDOWN_SECONDS * 1000);
    // a line that is part of a trace is the traceback detector's (named after the signature there)
    for (const d of out) if (d instanceof TracebackDetector) sig.ignoreLinesOf(d);
    out.push(sig);
  }
  return out;
}

/**
 * Issue 11's kinds fire once per occurrence and re-arm by themselves (a level crossed, a NaN after
 * finite values, a heartbeat gone stale): a time cooldown on top would only hide the next, often
 * worse, finding (a disk's critical level seconds after its warning, a NaN after a spike).
 */
const SELF_LIMITING = new Set(["metric", "resource", "heartbeat", "probe", "completion"]);

function defaultCooldownSeconds(kind: DetectorSpec["kind"]): number {
  return kind === "exit_code" || SELF_LIMITING.has(kind) ? 0 : DEFAULT_COOLDOWN_SECONDS;
}

/** The detector for one spec; `index` is its position in the config's list. */
export function buildDetector(
  spec: DetectorSpec,
  index: number,
  pack: SignaturePack | null = null,
): Detector {
  const name = resolveDetectorName(spec, index);
  const cooldownMs = (spec.cooldown_seconds ?? defaultCooldownSeconds(spec.kind)) * 1000;
  switch (spec.kind) {
    case "pattern":
      if (!spec.regex) throw new Error(`detector ${name}: a pattern detector needs a regex`);
      return new PatternDetector(name, compileRegex(spec.regex), spec.stream ?? "any", cooldownMs);
    case "traceback":
      return new TracebackDetector(name, cooldownMs, pack);
    case "stall":
      if (spec.adaptive) return buildAdaptiveStall(spec, name, cooldownMs);
      return new StallDetector(
        name,
        spec.metric_regex ? compileRegex(spec.metric_regex) : null,
        (spec.no_progress_seconds ?? 1800) * 1000,
        cooldownMs,
      );
    case "exit_code":
      return new ExitCodeDetector(name, spec.nonzero_only ?? true, cooldownMs, pack);
    default: {
      // issue 11's kinds (build-signals.ts)
      const d = buildSignalDetector(spec, name, cooldownMs);
      if (d === null) throw new Error(`detector ${name}: unknown kind ${spec.kind}`);
      return d;
    }
  }
}
