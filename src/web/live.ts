/**
 * @module
 * Following the projects' files for the viewer: every `intervalMs` each project is asked what
 * changed ({@link WebProject.poll}: a few stat calls and the lines appended since), and each change
 * goes to the subscribers of the server-sent-event stream. Polling, not inotify: the files often
 * sit on network filesystems (HPC home and scratch) where inotify sees nothing.
 */
import type { Change, WebProject } from "./project.ts";

export interface LiveMessage extends Change {
  project: string;
}

type Listener = (m: LiveMessage) => void;

export class LiveHub {
  private readonly listeners = new Set<{ project: string | null; fn: Listener }>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly projects: WebProject[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Look at every project once and tell the subscribers what changed. */
  tick(): void {
    for (const p of this.projects) {
      let changes: Change[];
      try {
        changes = p.poll();
      } catch {
        continue; // a file mid-rewrite: the next tick sees it
      }
      for (const c of changes) {
        const m: LiveMessage = { project: p.slug, ...c };
        for (const l of this.listeners) {
          if (l.project !== null && l.project !== p.slug) continue;
          try {
            l.fn(m);
          } catch {
            // a closed stream is dropped by its own cancel
          }
        }
      }
    }
  }

  /** Receive changes of one project (or of all with null); returns the unsubscribe function. */
  subscribe(project: string | null, fn: Listener): () => void {
    const entry = { project, fn };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
