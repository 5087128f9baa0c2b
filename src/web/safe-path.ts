/**
 * @module
 * Paths from a request (`/incidents/<id>/raw/<path>`, `/vault/<note>`) resolved inside a base
 * folder, or refused: no empty, `.` or `..` segment, no NUL or backslash, no absolute path, and the
 * real path (every symbolic link resolved) must lie inside the base's real path. A link inside the
 * store that points out of it is refused like `../`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Why {@link resolveInside} refused. */
export type PathRefusal = "invalid" | "not_found" | "outside";

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** True when each `/`-separated segment of `rel` is a plain name. */
export function isPlainRelative(rel: string): boolean {
  if (rel === "" || rel.length > 1024 || rel.startsWith("/") || /[\\\0]/.test(rel)) return false;
  return rel.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** The real path of regular file `rel` under `base`, or why not. */
export function resolveInside(
  base: string,
  rel: string,
): { ok: true; file: string } | { ok: false; why: PathRefusal } {
  if (!isPlainRelative(rel)) return { ok: false, why: "invalid" };
  let realBase: string;
  let real: string;
  try {
    realBase = fs.realpathSync(base);
    real = fs.realpathSync(path.join(base, rel));
  } catch {
    return { ok: false, why: "not_found" };
  }
  if (!inside(realBase, real)) return { ok: false, why: "outside" };
  try {
    if (!fs.statSync(real).isFile()) return { ok: false, why: "not_found" };
  } catch {
    return { ok: false, why: "not_found" };
  }
  return { ok: true, file: real };
}

/** Read a regular file under `base` as text, at most `max` bytes (the rest is reported as cut). */
export function readInside(base: string, rel: string, max = 2 * 1024 * 1024): string | null {
  const r = resolveInside(base, rel);
  if (!r.ok) return null;
  const fd = fs.openSync(r.file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, max));
    fs.readSync(fd, buf, 0, buf.length, 0);
    const text = buf.toString("utf8");
    return size > max ? `${text}\n… (${size - max} more bytes; see the raw file)` : text;
  } finally {
    fs.closeSync(fd);
  }
}
