/**
 * @module
 * Disk usage of a path's filesystem, as `df` reports it: used / (used + available to unprivileged
 * users), so the reserved blocks of ext4 count as full (that is when a checkpoint write fails).
 */
import * as fs from "node:fs";

export interface DiskUsage {
  path: string;
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  /** 0–100, df's "Use%". */
  percent: number;
}

/** Usage of the filesystem holding `p` (the nearest existing ancestor when `p` does not exist yet). */
export async function diskUsage(p: string): Promise<DiskUsage> {
  let target = p;
  for (;;) {
    try {
      await fs.promises.access(target);
      break;
    } catch {
      const up = target.replace(/\/[^/]*\/?$/, "") || "/";
      if (up === target) break;
      target = up;
    }
  }
  const s = await fs.promises.statfs(target);
  const total = s.blocks * s.bsize;
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  const percent = used + avail > 0 ? (100 * used) / (used + avail) : 0;
  return { path: p, totalBytes: total, usedBytes: used, availableBytes: avail, percent };
}
