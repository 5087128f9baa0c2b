/**
 * @module
 * Names inside an incident folder: the folder id's timestamp and slug (inventory §4.9), and the
 * slugs of frame and config file names.
 */

/**
 * Runs of characters outside `[A-Za-z0-9._-]` become one `-`, leading and trailing `-` are trimmed,
 * at most `max` characters; `fallback` when nothing (or only `.` / `..`) is left.
 */
export function slugify(text: string, max = 60, fallback = "incident"): string {
  const s = text
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, max)
    .replace(/-+$/, "");
  return s === "" || s === "." || s === ".." ? fallback : s;
}

/** `2026-11-22T03-04-05Z`: the UTC second, spelt so that it is a valid file name everywhere. */
export function folderStamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/:/g, "-")}Z`;
}

/** The folder id before any collision suffix: `<stamp>-<slug(kind-detector)>`. */
export function baseIncidentId(ms: number, kind: string, detector: string): string {
  return `${folderStamp(ms)}-${slugify(`${kind}-${detector}`)}`;
}

/** The `n`-th collision suffix of `base` (`-0001`, `-0002`, …); `n = 0` is `base` itself. */
export function withCollisionSuffix(base: string, n: number): string {
  return n === 0 ? base : `${base}-${String(n).padStart(4, "0")}`;
}
