/**
 * @module
 * The evidence for a recovery prompt, read back from an incident folder (which the incident store
 * has already redacted): `report.md`, `log_excerpt.txt`, `state.json`, `configs/*`. Missing files are
 * simply absent; every read is bounded so a huge file cannot blow up the prompt or the memory.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PromptEvidence } from "./prompt.ts";

const MAX_READ = 256 * 1024;

function readBounded(file: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, MAX_READ);
    const buf = Buffer.alloc(len);
    // The end of a big file is the interesting part (the failure is at the end of a log).
    fs.readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    fs.closeSync(fd);
  }
}

export type IncidentEvidence = Pick<PromptEvidence, "report" | "logExcerpt" | "configs" | "state">;

/** Read report, log excerpt, state and config snapshots of the incident folder `dir`. */
export function readIncidentEvidence(dir: string): IncidentEvidence {
  const configs: { path: string; content: string }[] = [];
  const configsDir = path.join(dir, "configs");
  let names: string[] = [];
  try {
    names = fs.readdirSync(configsDir).sort();
  } catch {}
  for (const name of names) {
    const content = readBounded(path.join(configsDir, name));
    if (content !== null) configs.push({ path: `configs/${name}`, content });
  }
  const stateText = readBounded(path.join(dir, "state.json"));
  return {
    report: readBounded(path.join(dir, "report.md")),
    logExcerpt: readBounded(path.join(dir, "log_excerpt.txt")),
    configs,
    state: stateText,
  };
}
