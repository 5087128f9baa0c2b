/**
 * @module
 * Values that were once the default of a config key and no longer are. `autosentry init --upgrade`
 * sets a key still holding one of them to today's default: the user never chose it, the template
 * did. A value the user changed is never touched. Add a line here whenever a template default
 * changes (the Python tool's old defaults are here so that a migrated config benefits too).
 */
import { isScalar, parseDocument } from "yaml";
import { CONFIG_TEMPLATE, YAML_OUTPUT_OPTIONS } from "./template.ts";

/** Dotted key → the defaults it had before (the current one is in the template). */
export const PAST_DEFAULTS: Readonly<Record<string, readonly unknown[]>> = {
  // Python autosentry before 0.13.1: ten consecutive unverified restarts.
  "process.restart_policy.max_restarts": [10],
  // Python autosentry: five attempts an hour paused healing after a short burst of failures.
  "healing.budget.max_attempts_per_detector_per_hour": [5],
};

export interface Refreshed {
  key: string;
  from: unknown;
  to: unknown;
}

/**
 * `text` with every key that still holds a past default set to the template's value, keeping every
 * comment and every other value (the scalar node is changed in place). Returns the text unchanged
 * when nothing is refreshed.
 */
export function refreshPastDefaults(
  text: string,
  templateText = CONFIG_TEMPLATE,
  /** Only these keys (default: every key still at a past default). */
  only?: ReadonlySet<string>,
): { text: string; refreshed: Refreshed[] } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message.split("\n")[0]);
  const tpl = parseDocument(templateText);
  const refreshed: Refreshed[] = [];
  for (const [key, past] of Object.entries(PAST_DEFAULTS)) {
    const keyPath = key.split(".");
    const node = doc.getIn(keyPath, true);
    const now = tpl.getIn(keyPath);
    if (only && !only.has(key)) continue;
    if (!isScalar(node) || now === undefined || !past.includes(node.value) || node.value === now) continue;
    refreshed.push({ key, from: node.value, to: now });
    node.value = now;
  }
  return { text: refreshed.length > 0 ? doc.toString(YAML_OUTPUT_OPTIONS) : text, refreshed };
}
