/**
 * @module
 * Time filters as people type them: a duration back from now (`30m`, `24h`, `7d`, `600s`, as
 * `analyze --since`) or an ISO date/time (UTC when it has no offset).
 */
import { parseIsoUtc, parseSince } from "../fixes/analyze.ts";

/** Epoch ms for `value`, null when empty; throws with a message naming the parameter on bad input. */
export function parseTimeBound(
  name: string,
  value: string | null | undefined,
  now = Date.now(),
): number | null {
  const v = value?.trim() ?? "";
  if (v === "") return null;
  if (/^\d+\s*[smhd]$/i.test(v)) return now - parseSince(v)!;
  const t = parseIsoUtc(v);
  if (Number.isNaN(t))
    throw new Error(
      `bad ${name} value '${v}' (expected a duration like 30m, 24h, 7d or a date like 2026-11-20T12:00)`,
    );
  return t;
}
