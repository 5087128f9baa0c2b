/**
 * @module
 * Durations and times as people read them (`3m 5s`, `… UTC (3m 5s ago)`), shared by the CLI, the
 * TUI and anything else that shows them; kept out of src/cli so other layers need not import it.
 */

/** `42s`, `3m 5s`, `2h 10m`, `3d 4h`. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `2026-11-22 03:04:05 UTC (3m 5s ago)` for an ISO time, or `-`. */
export function whenAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const stamp = `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return t <= now ? `${stamp} (${humanDuration(now - t)} ago)` : `${stamp} (in ${humanDuration(t - now)})`;
}
