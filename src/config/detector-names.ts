/**
 * @module
 * The names detectors go by. Rules, incidents and budgets refer to detectors by name, so the
 * default name is defined once, here.
 */

/** Detector names that exist without being configured: the exit-code detector the monitor adds when none is configured. */
export const IMPLIED_DETECTOR_NAMES: readonly string[] = ["exit_code"];

/** A detector's name: its `name`, else `pattern_<index>` for a pattern detector, else its kind. */
export function resolveDetectorName(
  spec: { kind: string; name?: string | undefined },
  index: number,
): string {
  return spec.name ?? (spec.kind === "pattern" ? `pattern_${index}` : spec.kind);
}
