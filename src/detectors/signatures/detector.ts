/**
 * @module
 * The signature detector: fires on a line that matches a standalone signature of the pack (the OOM
 * killer's `Killed`, `Segmentation fault (core dumped)`, a launcher's `exits with return code =
 * -9`, an NCCL watchdog timeout …): failures that print no traceback at all. The detection is
 * named after the signature (`signature`, `signatureKind`, `explanation`); its message is the
 * line. Detector name `signatures`, kind `pattern` (a rule can match either, or the signature).
 *
 * Hot path: {@link DetectorSet} folds {@link SignaturePack.trigger} into its combined pre-test, so a
 * line that matches no signature never reaches {@link observeLine}.
 */
import type { Detection, Stream } from "../../core/types.ts";
import { RecentLines, STREAM_CODE } from "../ring.ts";
import { parsePrefix } from "../traceback/prefix.ts";
import type { Detector } from "../types.ts";
import { applySignature, type SignaturePack } from "./pack-set.ts";

const CONTEXT_LINES = 50;
const MAX_MESSAGE = 300;
/** Progress-bar residue in front of a glued crash line (`… 1.91it/s]Killed`). */
const BAR_TAIL = /^.*(?:it\/s|s\/it|\d%\|[^|]*\|)[^\]]*\]\s*/;

export class SignatureDetector implements Detector {
  readonly kind = "pattern" as const;
  private lines = new RecentLines(CONTEXT_LINES);
  private shared = false;

  constructor(
    readonly name: string,
    readonly pack: SignaturePack,
    readonly cooldownMs: number,
  ) {}

  /** The pre-test a {@link DetectorSet} may fold into its combined regex. */
  get trigger(): RegExp | null {
    return this.pack.trigger;
  }

  observeLine(text: string, stream: Stream, at: number, generation: number): Detection | null {
    if (!this.shared) this.lines.push(text, STREAM_CODE[stream]);
    const trigger = this.pack.trigger;
    if (trigger === null || !trigger.test(text)) return null;
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
      meta: { line: text.length > 500 ? text.slice(0, 500) : text, source: p.key === "" ? null : p.key },
      at,
      generation,
    };
    applySignature(d, found);
    return d;
  }

  useRecentLines(lines: RecentLines): void {
    this.lines = lines;
    this.shared = true;
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
  }
}
