/**
 * @module
 * The signature detector: fires on a line that matches a standalone signature of the pack (the OOM
 * killer's `Killed`, `Segmentation fault (core dumped)`, a launcher's `exits with return code =
 * -9`, an NCCL watchdog timeout …): failures that print no traceback at all. The detection is
 * named after the signature (`signature`, `signatureKind`, `explanation`); its message is the
 * line without its log prefixes. Detector name `signatures`, kind `pattern`.
 *
 * Hot path: none. The pack's thirty-odd regexes cannot be pre-tested on every line within the
 * ingest budget (measured: even four more literals in the combined pre-test cost ~15 %), and these
 * failures are printed when a process dies, not in the middle of healthy output. So the detector
 * reads the shared ring of recent lines instead: the lines that arrived since its last look, on
 * every clock tick (about once a second), on {@link poll} (the offline scanner calls it every few
 * dozen lines) and when the output ends ({@link flush}), before the exit is handled. A burst of more
 * than the ring's 100 lines within one tick can hide a line from the live monitor until the end of
 * the output, when the last 100 lines are read again; the offline scanner reads every line.
 */
import type { Detection, Stream } from "../../core/types.ts";
import { RecentLines, STREAM_CODE } from "../ring.ts";
import { parsePrefix } from "../traceback/prefix.ts";
import type { Detector } from "../types.ts";
import { applySignature, type SignaturePack } from "./pack-set.ts";

const CONTEXT_LINES = 50;
/** Lines kept when the detector is used without a shared ring (tests, tools). */
const OWN_RING = 100;
const MAX_MESSAGE = 300;
/** Progress-bar residue in front of a glued crash line (`… 1.91it/s]Killed`). */
const BAR_TAIL = /^.*(?:it\/s|s\/it|\d%\|[^|]*\|)[^\]]*\]\s*/;

export class SignatureDetector implements Detector {
  readonly kind = "pattern" as const;
  private lines = new RecentLines(OWN_RING);
  private shared = false;
  /** The ring's line count at the last look: lines after it are new. */
  private seen = 0;
  private readonly pending: Detection[] = [];
  /** Detectors whose traces own some lines (see {@link ignoreLinesOf}). */
  private readonly owners: { covers(lineNo: number): boolean }[] = [];

  constructor(
    readonly name: string,
    readonly pack: SignaturePack,
    readonly cooldownMs: number,
  ) {}

  observeLine(text: string, stream: Stream, _at: number, _generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    return null;
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  observeTick(now: number, _childAlive: boolean, generation: number): Detection | null {
    return this.poll(now, generation);
  }

  flush(at: number, generation: number): Detection | null {
    return this.poll(at, generation);
  }

  /**
   * Skip lines that `owner` (a traceback detector on the same ring) counts as part of a trace: a
   * CUDA OOM traceback is one failure, reported by the traceback detector and named `cuda_oom`.
   */
  ignoreLinesOf(owner: { covers(lineNo: number): boolean }): void {
    this.owners.push(owner);
  }

  /** Read the lines that arrived since the last look; the first detection (more via takePending). */
  poll(at: number, generation: number): Detection | null {
    const ring = this.lines;
    const total = ring.count;
    if (total < this.seen) this.seen = 0; // the ring was cleared
    const fresh = Math.min(total - this.seen, ring.length);
    this.seen = total;
    const trigger = this.pack.trigger;
    if (trigger !== null) {
      for (let back = fresh - 1; back >= 0; back--) {
        const text = ring.lineAt(back)!;
        if (!trigger.test(text)) continue;
        const lineNo = total - back;
        if (this.owners.some((o) => o.covers(lineNo))) continue;
        const d = this.detect(text, lineNo, at, generation);
        if (d !== null) this.pending.push(d);
      }
    }
    return this.takePending();
  }

  takePending(): Detection | null {
    return this.pending.length > 0 ? this.pending.shift()! : null;
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
    this.seen = 0;
    this.pending.length = 0;
  }

  private detect(text: string, lineNo: number, at: number, generation: number): Detection | null {
    const found = this.pack.matchLine(text);
    if (found === null) return null;
    // the line without its log prefixes (`[default0]:`, timestamps) and any progress bar before it
    const p = parsePrefix(text);
    let message = p.text.trim().replace(BAR_TAIL, "");
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
    const d: Detection = {
      detector: this.name,
      detectorKind: "pattern",
      kind: "error",
      message,
      exceptionType: found.def.type?.(found.match) ?? undefined,
      context: this.lines.recent(CONTEXT_LINES),
      meta: {
        line: text.length > 500 ? text.slice(0, 500) : text,
        line_no: lineNo,
        source: p.key === "" ? null : p.key,
      },
      at,
      generation,
    };
    applySignature(d, found);
    return d;
  }
}
