/**
 * @module
 * Incident ids that come from outside (the CLI, an operator, a web request) are checked here before
 * they touch the file system: the id must look like an id, and the folder it names must resolve to a
 * direct child of the incidents directory, symbolic links included (inventory §6 item 34).
 */
import * as fs from "node:fs";
import * as path from "node:path";

const ID_RE = /^[A-Za-z0-9._:-]+$/;

/** True when `id` has the shape of an incident id (and is not `.` or `..`). */
export function isValidIncidentId(id: string): boolean {
  return ID_RE.test(id) && id !== "." && id !== ".." && id.length <= 255;
}

/** True when `child` is `parent` itself or lies below it (both already resolved). */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/**
 * The absolute folder of incident `id` under `incidentsDir`, or null when the id is invalid, the
 * folder does not exist, or it resolves (through links) outside the incidents directory.
 */
export function resolveIncidentDir(incidentsDir: string, id: string): string | null {
  if (!isValidIncidentId(id)) return null;
  const root = path.resolve(incidentsDir);
  const dir = path.join(root, id);
  if (path.dirname(dir) !== root) return null;
  let realRoot: string;
  let realDir: string;
  try {
    realRoot = fs.realpathSync(root);
    realDir = fs.realpathSync(dir);
    if (!fs.statSync(realDir).isDirectory()) return null;
  } catch {
    return null;
  }
  return isInside(realRoot, realDir) ? dir : null;
}
