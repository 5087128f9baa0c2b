/**
 * @module
 * The names detectors go by. Rules, incidents and budgets refer to detectors by name, so the
 * default name is defined once, here.
 */

/** Detector names that exist without being configured: the exit-code detector the monitor adds when none is configured. */
export const IMPLIED_DETECTOR_NAMES: readonly string[] = ["exit_code"];

/**
 * A detector's name: its `name`, else `pattern_<index>` for a pattern detector, else the series
 * for a metric detector (`loss`), else its kind.
 */
export function resolveDetectorName(
  spec: { kind: string; name?: string | undefined; metric?: unknown },
  index: number,
): string {
  if (spec.name !== undefined) return spec.name;
  if (spec.kind === "pattern") return `pattern_${index}`;
  const series = (spec.metric as { series?: unknown } | undefined)?.series;
  if (spec.kind === "metric" && typeof series === "string" && series !== "") return series;
  return spec.kind;
}
