/**
 * @module
 * Release versions: `MAJOR.MINOR.PATCH` with an optional `-prerelease` (`0.2.0-rc.1`), an optional
 * leading `v` and optional `+build` metadata (ignored), ordered as SemVer 2.0 orders them. Unlike
 * the Python tool (inventory §6 item 37) a prerelease is recognised by its `-`, never by the letters
 * a version happens to contain.
 */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated prerelease identifiers; empty for a release. */
  pre: string[];
}

const RE =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parse `text`; null when it is not a version. */
export function parseVersion(text: string): Version | null {
  const m = RE.exec(text.trim());
  if (m === null) return null;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    pre: m[4] === undefined ? [] : m[4].split("."),
  };
}

/** The version without a leading `v` or build metadata; throws on a malformed one. */
export function normalizeVersion(text: string): string {
  const v = parseVersion(text);
  if (v === null) throw new Error(`Not a version: "${text}" (expected MAJOR.MINOR.PATCH[-PRE])`);
  return `${v.major}.${v.minor}.${v.patch}${v.pre.length > 0 ? `-${v.pre.join(".")}` : ""}`;
}

/** True when `text` is a prerelease (`1.0.0-rc.1`). */
export function isPrerelease(text: string): boolean {
  return (parseVersion(text)?.pre.length ?? 0) > 0;
}

function compareIdent(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Math.sign(Number(a) - Number(b));
  if (na) return -1;
  if (nb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer order: negative when a < b, 0 when equal, positive when a > b. Throws on a malformed one. */
export function compareVersions(a: string, b: string): number {
  const va = parseVersion(a);
  const vb = parseVersion(b);
  if (va === null) throw new Error(`Not a version: "${a}"`);
  if (vb === null) throw new Error(`Not a version: "${b}"`);
  for (const k of ["major", "minor", "patch"] as const) {
    if (va[k] !== vb[k]) return Math.sign(va[k] - vb[k]);
  }
  // A release sorts after its prereleases.
  if (va.pre.length === 0 && vb.pre.length === 0) return 0;
  if (va.pre.length === 0) return 1;
  if (vb.pre.length === 0) return -1;
  for (let i = 0; i < Math.min(va.pre.length, vb.pre.length); i++) {
    const c = compareIdent(va.pre[i]!, vb.pre[i]!);
    if (c !== 0) return c;
  }
  return Math.sign(va.pre.length - vb.pre.length);
}
