/**
 * @module
 * Liveness files a job writes for its supervisor. A heartbeat file is fresh while its mtime is
 * recent. The process-monitor skill's sentinel-file convention puts three files in one directory:
 * `.heartbeat` (touched periodically), `.status` (written at the end: `SUCCESS` or `FAILED`, first
 * word, any case) and `.result` (the job's JSON output on success); autosentry reads all three.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Bytes of `.result` kept for the incident and the journal. */
const RESULT_MAX = 4096;

/** mtime (ms) of `file`, or null when it does not exist. */
export async function fileMtime(file: string): Promise<number | null> {
  try {
    return (await fs.promises.stat(file)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export interface SentinelReading {
  /** mtime of `.heartbeat` (null: absent). */
  heartbeatMs: number | null;
  /** First word of `.status`, upper case (null: absent or empty). */
  status: string | null;
  /** mtime of `.status`: a status older than the child is a previous run's. */
  statusMs: number | null;
  /** `.result`, cut to 4 KiB (null: absent). */
  result: string | null;
}

async function readSmall(file: string): Promise<string | null> {
  try {
    const fh = await fs.promises.open(file, "r");
    try {
      const buf = Buffer.alloc(RESULT_MAX);
      const { bytesRead } = await fh.read(buf, 0, RESULT_MAX, 0);
      return buf.subarray(0, bytesRead).toString("utf8");
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Read the sentinel files in `dir`. */
export async function readSentinels(dir: string): Promise<SentinelReading> {
  const [heartbeatMs, statusMs, statusText, result] = await Promise.all([
    fileMtime(path.join(dir, ".heartbeat")),
    fileMtime(path.join(dir, ".status")),
    readSmall(path.join(dir, ".status")),
    readSmall(path.join(dir, ".result")),
  ]);
  const word = statusText?.trim().split(/\s+/)[0]?.toUpperCase() ?? "";
  return { heartbeatMs, status: word === "" ? null : word, statusMs, result };
}
