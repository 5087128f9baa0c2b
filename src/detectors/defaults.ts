/**
 * @module
 * The default detector set: the Python tool's template (inventory §4.19) with its regexes made a
 * little more complete. Used when no config file says otherwise (and by `autosentry scan`).
 */
import type { DetectorSpec } from "../config/schema.ts";

const base = { stream: "any", no_progress_seconds: 1800, nonzero_only: true } as const;

export const DEFAULT_DETECTOR_SPECS: DetectorSpec[] = [
  {
    ...base,
    kind: "pattern",
    name: "oom",
    regex:
      "(OutOfMemoryError|CUDA out of memory|CUDA error: out of memory|[Kk]illed.*\\bOOM\\b|Out of memory: Killed process)",
  },
  // word-bounded: NCCL's healthy `NET/Plugin : dlerror=libnccl-net.so …` line is not an error
  { ...base, kind: "pattern", name: "nccl", regex: "NCCL.*\\b(error|Error|timeout|timed out|Timeout)\\b" },
  {
    ...base,
    kind: "pattern",
    name: "connection_reset",
    regex: "(ConnectionResetError|ECONNRESET|EHOSTUNREACH|Connection refused|Connection reset by peer)",
  },
  { ...base, kind: "traceback", name: "traceback" },
  { ...base, kind: "stall", name: "training_stall", metric_regex: "(?:step|iter)\\s+(\\d+)" },
  { ...base, kind: "exit_code", name: "exit_code" },
];
