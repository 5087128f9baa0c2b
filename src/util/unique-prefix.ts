/**
 * @module
 * Naming one of many long ids the way git names commits: the whole id, any prefix that only one
 * id starts with, or `last` for the newest.
 */

/** What a query named: one id, or why it names none. */
export type PrefixMatch =
  | { ok: true; id: string }
  | { ok: false; error: "not_found" }
  | { ok: false; error: "ambiguous"; matches: string[] };

/**
 * Resolve `query` against `ids` (oldest first, so `last` is the final one). An exact id always
 * wins, even when it is also the prefix of a longer one.
 */
export function matchPrefix(query: string, ids: readonly string[]): PrefixMatch {
  if (query === "last") {
    const id = ids.at(-1);
    return id === undefined ? { ok: false, error: "not_found" } : { ok: true, id };
  }
  if (query !== "" && ids.includes(query)) return { ok: true, id: query };
  const matches = query === "" ? [] : [...new Set(ids.filter((id) => id.startsWith(query)))];
  if (matches.length === 1) return { ok: true, id: matches[0] as string };
  if (matches.length === 0) return { ok: false, error: "not_found" };
  return { ok: false, error: "ambiguous", matches };
}

/** `a, b, c and N more` for an error message. */
export function listSome(ids: readonly string[], max = 5): string {
  const shown = ids.slice(0, max).join(", ");
  return ids.length > max ? `${shown} and ${ids.length - max} more` : shown;
}
