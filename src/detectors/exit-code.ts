/**
 * @module
 * The exit-code detector: fires when the child ends badly. Never for an exit the monitor caused
 * (`stopped`); for a clean exit (`success`, code 0) only when `nonzero_only` is false. Scheduler
 * outcomes (preempted, timeout, …) always fire, whatever code they came with; an ending nobody can
 * explain (`unknown`) fires as `process ended; exit code unknown`.
 *
 * Every detection also says what its code means (`explanation`, meta `exit_meaning`): 137 is
 * SIGKILL (most often the OOM killer), 139 SIGSEGV, 143 SIGTERM, 124 a `timeout` wrapper. The
 * message itself stays as the Python tool words it (rules match on it). With the signature pack on,
 * a signal death is named `exit_signal` (or `oom_killer` when SLURM says so) and 124 `exit_timeout`.
 */
import type { ChildExit, Detection, Stream } from "../core/types.ts";
import { RecentLines, STREAM_CODE } from "./ring.ts";
import { exitCodeMeaning, signalMeaning } from "./signatures/exit-meaning.ts";
import type { SignaturePack } from "./signatures/pack-set.ts";
import type { Detector } from "./types.ts";

const CONTEXT_LINES = 100;

export class ExitCodeDetector implements Detector {
  readonly kind = "exit_code" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;

  constructor(
    readonly name: string,
    readonly nonzeroOnly: boolean,
    readonly cooldownMs: number,
    readonly pack: SignaturePack | null = null,
  ) {}

  observeLine(text: string, stream: Stream, _at: number, _generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    return null;
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeExit(exit: ChildExit): Detection | null {
    const message = exitMessage(exit, this.nonzeroOnly);
    if (message === null) return null;
    const meta: Detection["meta"] = {
      exit_code: exit.code,
      signal: exit.signal,
      exit_class: exit.exitClass,
    };
    if (exit.detail !== undefined) meta["detail"] = exit.detail;
    const d: Detection = {
      detector: this.name,
      detectorKind: "exit_code",
      kind: "error",
      message,
      context: this.lines.recent(CONTEXT_LINES),
      meta,
      at: exit.at,
      generation: exit.generation,
    };
    const meaning = exitMeaning(exit);
    if (meaning !== null) d.explanation = meaning;
    if (this.pack !== null) {
      // with the pack on, the meaning also goes into meta (and so into the incident record)
      if (meaning !== null) meta["exit_meaning"] = meaning;
      nameExit(d, exit, meaning, this.pack);
    }
    return d;
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
  }
}

/** The detection message for an exit, or null when the exit is not a failure to report. */
export function exitMessage(exit: ChildExit, nonzeroOnly: boolean): string | null {
  const code = exit.code;
  switch (exit.exitClass) {
    case "stopped":
      return null;
    case "success":
      return nonzeroOnly ? null : `process exited with code ${code ?? 0}`;
    case "unknown":
      return "process ended; exit code unknown";
    case "signal":
      if (exit.signal !== null) {
        return code !== null
          ? `process killed by ${exit.signal} (exit code ${code})`
          : `process killed by ${exit.signal}`;
      }
      return code !== null ? `process exited with code ${code}` : "process killed by a signal";
    case "failure":
      if (code === 0 && nonzeroOnly) return null;
      return code !== null ? `process exited with code ${code}` : "process failed; exit code unknown";
    default:
      // preempted, node_fail, timeout, oom, cancelled
      return code !== null
        ? `process exited with code ${code} (${exit.exitClass})`
        : `process ended: ${exit.exitClass}`;
  }
}

/** Signal numbers by name, for exits that report only the name. */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGILL: 4,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/** What an exit means in words (`SIGKILL: killed outright: most often the kernel OOM killer …`), or null. */
export function exitMeaning(exit: ChildExit): string | null {
  if (exit.exitClass === "oom") return "the scheduler's memory limit was exceeded (out of memory)";
  if (exit.exitClass === "timeout") return "the scheduler's time limit ran out";
  if (exit.exitClass === "preempted") return "the scheduler preempted the job for a higher-priority one";
  if (exit.exitClass === "node_fail") return "the node the job ran on failed";
  if (exit.signal !== null) {
    const n = SIGNAL_NUMBERS[exit.signal];
    return n !== undefined ? signalMeaning(n) : `killed by ${exit.signal}`;
  }
  return exit.code !== null ? exitCodeMeaning(exit.code) : null;
}

/** Name an exit detection after the pack's signatures (signal deaths, timeouts, scheduler OOM). */
function nameExit(d: Detection, exit: ChildExit, meaning: string | null, pack: SignaturePack): void {
  if (meaning === null) return;
  let name: "exit_signal" | "exit_timeout" | "oom_killer" | null = null;
  if (exit.exitClass === "oom") name = "oom_killer";
  else if (exit.exitClass === "timeout" || exit.code === 124) name = "exit_timeout";
  else if (exit.signal !== null || (exit.code !== null && exit.code > 128 && exit.code < 160))
    name = "exit_signal";
  if (name === null || !pack.has(name)) return;
  const def = pack.defs.find((x) => x.name === name)!;
  d.signatureName = name;
  d.signatureKind = def.kind;
  d.meta["signature_name"] = name;
  d.meta["signature_kind"] = def.kind;
  d.meta["explanation"] = meaning;
}
