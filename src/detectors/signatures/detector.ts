/**
 * @module
 * The signature detector: fires on a line that matches a standalone signature of the pack (the OOM
 * killer's `Killed`, `Segmentation fault (core dumped)`, a launcher's `exits with return code =
 * -9`, an NCCL watchdog timeout …): failures that print no traceback at all. The detection is
 * named after the signature (`signature`, `signatureKind`, `explanation`); its message is the
 * line without its log prefixes. Detector name `signatures`, kind `pattern`.
 *
 * Hot path: in a {@link DetectorSet} (the monitor, the scanner), the pack's required literals
 * (SignaturePack.preTest) are part of the set's one combined pre-test, so a healthy line costs
 * nothing more here; a line that passes it is handed to {@link candidate}, which runs the real
 * trigger (a few microseconds) and queues the line when it matches. The queue is read on every
 * clock tick (about once a second), on {@link poll} and when the output ends ({@link flush}),
 * because whether a line belongs to a trace (and is then the traceback detector's) is known only
 * once that trace is parsed. Every line is looked at, however fast the output comes.
 *
 * Without a set's pre-test (the detector used on its own, or a pack with flagged regexes), the
 * detector reads the ring of recent lines on those same occasions instead: the lines that arrived
 * since its last look. A burst of more than the ring's 100 lines within one tick can then hide a
 * line until the end of the output, when the last 100 lines are read again.
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
/**
 * Candidate lines kept between two looks. Past it later ones are dropped (the first failure lines
 * are the ones that name the cause, and the set's cooldown passes one detection a minute anyway).
 */
const MAX_CANDIDATES = 4096;
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
  /** True while a detector set feeds the lines that pass its pre-test to {@link candidate}. */
  private fed = false;
  /**
   * Lines that matched the trigger since the last look, their numbers in the ring, and the lines up
   * to each (its context, taken when it arrived: by the next look the ring holds later lines).
   */
  private readonly candidates: string[] = [];
  private readonly candidateNos: number[] = [];
  private readonly candidateContexts: string[][] = [];

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

  /**
   * Called by a {@link DetectorSet} whose combined pre-test includes {@link SignaturePack.preTest}:
   * from now on only the lines handed to {@link candidate} are looked at.
   */
  feedCandidates(): void {
    this.fed = true;
  }

  /** The newest line of the ring passed the set's pre-test: keep it when the trigger matches. */
  candidate(text: string): void {
    const trigger = this.pack.trigger;
    if (trigger === null || !trigger.test(text)) return;
    if (this.candidates.length >= MAX_CANDIDATES) return;
    this.candidates.push(text);
    this.candidateNos.push(this.lines.count);
    this.candidateContexts.push(this.lines.recent(CONTEXT_LINES));
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
    if (this.fed) {
      const texts = this.candidates;
      const nos = this.candidateNos;
      const contexts = this.candidateContexts;
      for (let i = 0; i < texts.length; i++) this.consider(texts[i]!, nos[i]!, at, generation, contexts[i]);
      texts.length = 0;
      nos.length = 0;
      contexts.length = 0;
      return this.takePending();
    }
    const ring = this.lines;
    const total = ring.count;
    if (total < this.seen) this.seen = 0; // the ring was cleared
    const fresh = Math.min(total - this.seen, ring.length);
    this.seen = total;
    const trigger = this.pack.trigger;
    if (trigger !== null) {
      for (let back = fresh - 1; back >= 0; back--) {
        const text = ring.lineAt(back)!;
        if (trigger.test(text)) this.consider(text, total - back, at, generation);
      }
    }
    return this.takePending();
  }

  /** A line that matched the trigger: a detection unless a trace owns it. */
  private consider(text: string, lineNo: number, at: number, generation: number, context?: string[]): void {
    if (this.owners.some((o) => o.covers(lineNo))) return;
    const d = this.detect(text, lineNo, at, generation, context);
    if (d !== null) this.pending.push(d);
  }

  takePending(): Detection | null {
    return this.pending.length > 0 ? this.pending.shift()! : null;
  }

  onChildStart(): void {
    if (!this.shared) this.lines.clear();
    this.seen = 0;
    this.pending.length = 0;
    this.candidates.length = 0;
    this.candidateNos.length = 0;
    this.candidateContexts.length = 0;
  }

  private detect(
    text: string,
    lineNo: number,
    at: number,
    generation: number,
    context?: string[],
  ): Detection | null {
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
      context: context ?? this.lines.recent(CONTEXT_LINES),
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
