/**
 * @module
 * Building the viewer's URLs with query strings.
 */

/** `path?k=v&…` without empty values. */
export function withQuery(path: string, q: Record<string, string | number | null | undefined>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") sp.set(k, String(v));
  const s = sp.toString();
  return s ? `${path}?${s}` : path;
}
