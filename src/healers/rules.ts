/**
 * @module
 * The rule healer: the user's known answers, tried top-down. A rule matches a detection when every
 * condition it states holds (detector name, a regex searched in the message, an exception type in
 * the trace, a built-in signature name). With several detections of one failure (an OOM line, its traceback, the exit), rules
 * are tried in order and each rule against every detection in arrival order, so rule order is the
 * priority.
 */

import { compileRegex } from "../config/regex.ts";
import type { RuleSpec } from "../config/schema.ts";
import type { Action, Detection, HealerOutcome } from "../core/types.ts";
import type { HealContext, Healer } from "./types.ts";

export interface CompiledRule {
  name: string;
  detector: string | undefined;
  messageRegex: RegExp | undefined;
  exceptionType: string | undefined;
  /** A built-in signature name the detection must carry (`cuda_oom`, `oom_killer`, …). */
  signature?: string | undefined;
  /** The detection's `meta.metric` (a series or resource name), when the rule names one. */
  metric?: string | undefined;
  /** The detection's `meta.condition` (nan, spike, critical, stale, …), when the rule names one. */
  condition?: string | undefined;
  action: Action;
}

/** Compile rule specs (regexes in the Python dialect). Throws RegexError on a bad regex. */
export function compileRules(specs: RuleSpec[]): CompiledRule[] {
  return specs.map((r) => ({
    name: r.name ?? r.match.detector ?? r.match.exception_type ?? r.match.signature ?? "rule",
    detector: r.match.detector,
    messageRegex: r.match.message_regex !== undefined ? compileRegex(r.match.message_regex) : undefined,
    exceptionType: r.match.exception_type,
    signature: r.match.signature,
    metric: r.match.metric,
    condition: r.match.condition,
    action: {
      kind: r.action.kind,
      set: { ...r.action.set },
      command: [...r.action.command],
      timeout_seconds: r.action.timeout_seconds,
      notify: r.action.notify,
    },
  }));
}

/** Exception types a detection carries: its own and every exception in its trace's chain. */
function exceptionTypes(d: Detection): string[] {
  const types: string[] = [];
  if (d.exceptionType) types.push(d.exceptionType);
  for (const e of d.trace?.exceptions ?? []) if (e.type) types.push(e.type);
  return types;
}

function typeMatches(want: string, have: string): boolean {
  if (want === have) return true;
  // A name without dots also matches the last part: `OutOfMemoryError` ~ `torch.cuda.OutOfMemoryError`.
  if (!want.includes(".")) {
    const last = have.slice(
      Math.max(have.lastIndexOf("."), have.lastIndexOf("::") + 1, have.lastIndexOf("$")) + 1,
    );
    return last === want;
  }
  return false;
}

/** True when `rule` matches `d`. */
export function ruleMatches(rule: CompiledRule, d: Detection): boolean {
  if (rule.detector !== undefined && rule.detector !== d.detector) return false;
  if (rule.signature !== undefined && rule.signature !== d.signatureName) return false;
  if (rule.messageRegex !== undefined) {
    rule.messageRegex.lastIndex = 0;
    if (!rule.messageRegex.test(d.message)) return false;
  }
  if (rule.exceptionType !== undefined) {
    const want = rule.exceptionType;
    if (!exceptionTypes(d).some((t) => typeMatches(want, t))) return false;
  }
  if (rule.metric !== undefined && d.meta["metric"] !== rule.metric) return false;
  if (rule.condition !== undefined && d.meta["condition"] !== rule.condition) return false;
  return true;
}

/** The first rule (in order) that matches any of `detections`, with the detection it matched. */
export function firstMatch(
  rules: CompiledRule[],
  detections: Detection[],
): { rule: CompiledRule; detection: Detection } | null {
  for (const rule of rules) {
    for (const d of detections) if (ruleMatches(rule, d)) return { rule, detection: d };
  }
  return null;
}

/** The rule healer. */
export class RuleHealer implements Healer {
  readonly name = "rules";
  constructor(private readonly rules: CompiledRule[]) {}

  /** {@link heal} answers exactly when a rule matches (it reads nothing else). */
  wouldAct(related: Detection[]): boolean {
    return firstMatch(this.rules, related) !== null;
  }

  async heal(ctx: HealContext): Promise<HealerOutcome | null> {
    const m = firstMatch(this.rules, ctx.related);
    if (!m) return null;
    return {
      action: { ...m.rule.action, set: { ...m.rule.action.set }, command: [...m.rule.action.command] },
      source: "rule",
      ruleName: m.rule.name,
      detection: m.detection,
      rationale: `rule \`${m.rule.name}\` matched detector \`${m.detection.detector}\``,
    };
  }
}
