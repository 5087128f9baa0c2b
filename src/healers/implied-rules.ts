/**
 * @module
 * Rules implied by a detector's `action:` key (issue 11), appended after the user's own rules so
 * theirs always win. The defaults are what a person would do by hand: a job whose heartbeat went
 * stale, whose health probe keeps failing, or whose sentinel says FAILED is replaced (`restart`
 * stops the old child first); a resource at its critical level pauses the job (a full disk
 * corrupts the next checkpoint, and a restart would not free the disk); a `warn` level never acts
 * by itself. Metric detectors imply nothing: what to do about a NaN loss is the user's rule (or
 * the agent's call). `action: none` turns the implied rule off.
 */
import { resolveDetectorName } from "../config/detector-names.ts";
import type { DetectorSpec } from "../config/schema.ts";
import type { CompiledRule } from "./rules.ts";

const DEFAULTS: Partial<Record<DetectorSpec["kind"], "restart" | "pause" | "abort">> = {
  heartbeat: "restart",
  probe: "restart",
  resource: "pause",
};

/** One rule per detector whose (explicit or default) action is not `none`. */
export function impliedRules(specs: DetectorSpec[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  specs.forEach((spec, i) => {
    const kind = spec.action ?? DEFAULTS[spec.kind] ?? "none";
    if (kind === "none") return;
    const name = resolveDetectorName(spec, i);
    out.push({
      name: `${name} (implied: ${kind})`,
      detector: name,
      messageRegex: undefined,
      exceptionType: undefined,
      // a resource acts on its critical level only; warnings are reported, never acted on
      condition: spec.kind === "resource" ? "critical" : undefined,
      metric: undefined,
      action: { kind, set: {}, command: [], notify: true },
    });
  });
  return out;
}
