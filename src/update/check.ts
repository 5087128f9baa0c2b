/**
 * @module
 * "Is there a newer autosentry?", answered from the release source and cached for a day in
 * `${XDG_CACHE_HOME:-~/.cache}/autosentry/update-check.json` (one entry per source and channel under
 * `entries`; the newest answer also at the top level, as the Python tool wrote it), so
 * `autosentry update --check` in a wrapper script or shell prompt costs one request a day. A failed
 * check is never cached and never throws: the report carries the reason and `latest: null`, and the
 * command still exits 0 (a login node without internet is normal, not an error).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { compareVersions } from "./semver.ts";
import type { ReleaseSource } from "./source.ts";

export const CACHE_TTL_MS = 24 * 3600 * 1000;

export interface CheckReport {
  current: string;
  latest: string | null;
  is_outdated: boolean;
  /** Release target an update would install. */
  target: string;
  channel: "stable" | "pre";
  source: string;
  /** True when the answer came from the cache. */
  cached: boolean;
  checked_at: string | null;
  /** Why `latest` is unknown (offline, no such repository, …); null when the check worked. */
  error: string | null;
}

interface CacheEntry {
  checked_at: string;
  latest: string;
}

/** The cache file. */
export function cacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "autosentry", "update-check.json");
}

function readCache(file: string): Record<string, CacheEntry> {
  try {
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as { entries?: Record<string, CacheEntry> };
    return data.entries && typeof data.entries === "object" ? data.entries : {};
  } catch {
    return {};
  }
}

/** Check `source` for the newest version (from the cache when it is younger than a day and allowed). */
export async function checkForUpdate(o: {
  source: ReleaseSource;
  current: string;
  target: string;
  pre: boolean;
  useCache: boolean;
  now?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<CheckReport> {
  const now = o.now ?? Date.now();
  const file = cacheFile(o.env);
  const key = `${o.source.label} ${o.pre ? "pre" : "stable"}`;
  const report: CheckReport = {
    current: o.current,
    latest: null,
    is_outdated: false,
    target: o.target,
    channel: o.pre ? "pre" : "stable",
    source: o.source.label,
    cached: false,
    checked_at: null,
    error: null,
  };
  const entries = readCache(file);
  const hit = entries[key];
  if (
    o.useCache &&
    hit !== undefined &&
    now - Date.parse(hit.checked_at) < CACHE_TTL_MS &&
    now >= Date.parse(hit.checked_at)
  ) {
    report.latest = hit.latest;
    report.cached = true;
    report.checked_at = hit.checked_at;
  } else {
    try {
      report.latest = await o.source.latest(o.pre);
      report.checked_at = new Date(now).toISOString();
      entries[key] = { checked_at: report.checked_at, latest: report.latest };
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // Top level: the newest answer in the Python tool's shape ({checked_at, latest, allow_pre}),
        // which `doctor` reads; `entries` keeps one answer per source and channel.
        const top = {
          checked_at: report.checked_at,
          latest: report.latest,
          allow_pre: o.pre,
          source: o.source.label,
        };
        writeFileAtomicSync(file, `${JSON.stringify({ ...top, entries }, null, 2)}\n`);
      } catch {
        // A read-only home must not turn a working check into a failure.
      }
    } catch (err) {
      report.error = err instanceof Error ? err.message : String(err);
    }
  }
  if (report.latest !== null) {
    try {
      report.is_outdated = compareVersions(report.latest, o.current) > 0;
    } catch (err) {
      report.error = err instanceof Error ? err.message : String(err);
    }
  }
  return report;
}
