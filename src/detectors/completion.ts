/**
 * @module
 * The completion detector: a line matching `marker_regex`, or a `marker_file` created after the
 * child started, means the work is done. Its detection has kind `completion`: the monitor does not
 * treat it as a failure but waits `grace_seconds` for the child to exit by itself, then stops a
 * child that hangs in its teardown (NCCL and dataloader workers are the classics) and ends the run
 * as a success. One completion per child.
 */
import type { Detection, Stream } from "../core/types.ts";
import type { Detector } from "./types.ts";

export class CompletionDetector implements Detector {
  readonly kind = "completion" as const;
  private done = false;
  private childStart: number | null = null;
  private readonly queue: Detection[] = [];
  private generation = 0;

  constructor(
    readonly name: string,
    readonly marker: RegExp | null,
    /** For messages only; the monitor stats the file and calls {@link observeMarkerFile}. */
    readonly markerFile: string | null,
    readonly cooldownMs: number,
  ) {}

  observeLine(text: string, _stream: Stream, at: number, generation: number): Detection | null {
    if (this.done || this.marker === null) return null;
    this.marker.lastIndex = 0;
    if (!this.marker.test(text)) return null;
    return this.complete(`completion marker seen: ${text.slice(0, 200)}`, at, generation);
  }

  /** The marker file's mtime (null: absent). */
  observeMarkerFile(mtimeMs: number | null, at: number): void {
    if (this.done || mtimeMs === null) return;
    if (this.childStart !== null && mtimeMs < this.childStart) return; // a previous run's
    const d = this.complete(`completion marker file ${this.markerFile ?? ""} written`, at, this.generation);
    this.queue.push(d);
  }

  private complete(message: string, at: number, generation: number): Detection {
    this.done = true;
    return {
      detector: this.name,
      detectorKind: "completion",
      kind: "completion",
      message,
      context: [],
      meta: { metric: "completion", condition: "done" },
      at,
      generation,
    };
  }

  observeTick(_now: number, _alive: boolean, generation: number): Detection | null {
    this.generation = generation;
    return this.queue.shift() ?? null;
  }

  takePending(): Detection | null {
    return this.queue.shift() ?? null;
  }

  onChildStart(generation: number, at: number): void {
    this.generation = generation;
    this.childStart = at;
    this.done = false;
    this.queue.length = 0;
  }
}
