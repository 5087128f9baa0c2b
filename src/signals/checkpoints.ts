/**
 * @module
 * Finding the checkpoint a restart resumes from: the newest *complete* match of a glob.
 *
 * A match is complete when its name does not look like a write in progress (`.tmp`, `.partial`,
 * `.incomplete`, `.part`, a trailing `~`, `tmp-`/`.tmp-` infixes torch and HF use), when the
 * configured marker file exists inside it (for directory checkpoints: `complete_marker: done`),
 * and when nothing in it changed for `min_age_seconds` (a writer that renames into place is
 * complete at once; one that writes in place is caught by the age). Newest means the highest step
 * when every candidate's name has one (a copied old checkpoint has a new mtime but an old step),
 * else the latest mtime.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface CheckpointQuery {
  /** Glob relative to `cwd` (or absolute). */
  glob: string;
  cwd: string;
  /** Group 1 of this regex in the match's path is its step; default: the last number in its name. */
  stepRegex: RegExp | null;
  /** A file that must exist inside a directory checkpoint. */
  completeMarker: string | null;
  minAgeMs: number;
}

export interface Checkpoint {
  path: string;
  mtimeMs: number;
  step: number | null;
}

const IN_PROGRESS = /(?:\.(?:tmp|partial|incomplete|part|lock)$|~$|(?:^|[._-])tmp[._-])/i;

/** The step a checkpoint's path names (null: none). */
export function checkpointStep(p: string, stepRegex: RegExp | null): number | null {
  if (stepRegex) {
    stepRegex.lastIndex = 0;
    const m = stepRegex.exec(p);
    const v = m ? Number(m[1] ?? m[0]) : Number.NaN;
    return Number.isFinite(v) ? v : null;
  }
  const all = path.basename(p).match(/\d+/g);
  return all ? Number(all[all.length - 1]) : null;
}

/** Latest mtime of `p` and, for a directory, of its direct entries. */
async function newestMtime(p: string, st: fs.Stats): Promise<number> {
  let m = st.mtimeMs;
  if (!st.isDirectory()) return m;
  for (const e of await fs.promises.readdir(p).catch(() => [] as string[])) {
    const s = await fs.promises.stat(path.join(p, e)).catch(() => null);
    if (s && s.mtimeMs > m) m = s.mtimeMs;
  }
  return m;
}

/** Every complete checkpoint matching the query, newest first. */
export async function completeCheckpoints(q: CheckpointQuery, now: number): Promise<Checkpoint[]> {
  const glob = new Bun.Glob(q.glob);
  const found: Checkpoint[] = [];
  const base = path.isAbsolute(q.glob) ? "/" : q.cwd;
  for await (const rel of glob.scan({ cwd: base, onlyFiles: false, dot: false, followSymlinks: true })) {
    const abs = path.resolve(base, rel);
    if (IN_PROGRESS.test(path.basename(abs))) continue;
    const st = await fs.promises.stat(abs).catch(() => null);
    if (!st) continue;
    if (q.completeMarker !== null && st.isDirectory()) {
      if (!fs.existsSync(path.join(abs, q.completeMarker))) continue;
    }
    const mtimeMs = await newestMtime(abs, st);
    if (now - mtimeMs < q.minAgeMs) continue;
    found.push({ path: abs, mtimeMs, step: checkpointStep(abs, q.stepRegex) });
  }
  const bySteps = found.length > 0 && found.every((c) => c.step !== null);
  found.sort((a, b) => (bySteps ? b.step! - a.step! : 0) || b.mtimeMs - a.mtimeMs);
  return found;
}

/** The newest complete checkpoint, or null. */
export async function newestCheckpoint(q: CheckpointQuery, now: number): Promise<Checkpoint | null> {
  return (await completeCheckpoints(q, now))[0] ?? null;
}

/** argv with every `{checkpoint}` in `template` replaced, appended; nothing when there is no checkpoint. */
export function resumeArgs(template: string[], checkpoint: string | null): string[] {
  if (checkpoint === null) return [];
  return template.map((a) => a.split("{checkpoint}").join(checkpoint));
}
