/**
 * @module
 * The host's available memory (`MemAvailable` of /proc/meminfo: what can be allocated without
 * swapping, page cache included; `MemFree` would cry wolf on every busy machine).
 */
import * as fs from "node:fs";

/** Parse MemAvailable (bytes) out of /proc/meminfo text; null when absent (kernels before 3.14). */
export function parseMemAvailable(text: string): number | null {
  const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** Bytes of memory available on this host. Throws when /proc/meminfo cannot tell. */
export async function memAvailable(file = "/proc/meminfo"): Promise<number> {
  const v = parseMemAvailable(await fs.promises.readFile(file, "latin1"));
  if (v === null) throw new Error(`Cannot read available memory: no MemAvailable in ${file}`);
  return v;
}
