/**
 * @module
 * The dispatcher's delivery ledger: an append-only JSON Lines file next to the outbox, owned by
 * one dispatcher at a time (its lock). The outbox itself is never written by the dispatcher.
 *
 * Records (one line each, appended in one write):
 * - `{t:"intent", k, at}`: an attempt to post message `k` starts.
 * - `{t:"sent", k, id, tk?, th?, ch?}`: `k` was posted as service message `id`; when it opened the
 *   thread of thread_key `tk`, `th` is that thread's reference, in the same line, so a thread and
 *   its first message are remembered together or not at all.
 * - `{t:"fail", k, n, err, amb, next, dead}`: attempt `n` failed; `amb`: the service may have acted;
 *   `next`: not before (epoch ms); `dead`: given up (a permanent error, repeated).
 * - `{t:"thread_ok", tk}`: the thread of `tk` exists on the service (Discord starts it separately).
 * - `{t:"seen", tk, last}`: replies in the thread of `tk` up to `last` were handled.
 * - `{t:"ack", k, tk, ch, text, reply}`: a dispatcher-made message (a command's answer) to deliver.
 * - `{t:"cursor", off}`: every outbox line before byte `off` is sent or dead.
 * - `{t:"segment", base, file}`: the outbox file `file` (`<inode>:<birth time>`) is read from here on, its byte 0
 *   being position `base` (the outbox is rotated by its writer: positions go on across files).
 * - `{t:"retry", k}`: given-up message `k` is to be delivered again (`dispatcher retry`).
 * - `{t:"snapshot", …}`: the first line of a compacted ledger (the whole state, see {@link LedgerState}).
 *
 * Message keys: `o<position of the line in the outbox>` (stable: the outbox is append-only; the
 * position is the byte offset in its file plus that file's segment base, so it never repeats
 * across rotations) and `ack:<reply id>`. A torn last line (a crash mid-write) is skipped on replay, which is safe: each
 * record is written before what depends on it (see docs/dispatcher.md, "exactly once").
 */
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { appendJsonl, readJsonl } from "../util/jsonl.ts";

export interface AttemptState {
  /** Failed attempts so far. */
  n: number;
  /** Not before this time (epoch ms). */
  next: number;
  /** The last attempt may have reached the service: look before posting again. */
  inDoubt: boolean;
  /** When the first attempt started (epoch ms). */
  firstAt: number;
  err: string | null;
}

export interface ThreadState {
  ref: string;
  channel: string | null;
  /** The thread exists on the service (false until Discord confirms it was started). */
  ready: boolean;
}

export interface AckMessage {
  k: string;
  tk: string | null;
  ch: string | null;
  text: string;
  /** The reply this answers (its id), for pruning. */
  reply: string;
}

export interface LedgerState {
  cursor: number;
  /** Keys sent (value: service id) or dead (value: null), at or after the cursor, and acks. */
  done: Map<string, string | null>;
  attempts: Map<string, AttemptState>;
  threads: Map<string, ThreadState>;
  seen: Map<string, string>;
  /** Ack messages not yet done, in the order they were made. */
  acks: Map<string, AckMessage>;
  /**
   * Dead keys and their error, for `dispatcher pending` and `dispatcher retry`: kept after the
   * cursor passes them (the newest {@link MAX_DEAD}), so a given-up message can be sent again.
   */
  dead: Map<string, string>;
  /** The outbox file being read and its base (see {@link OutboxSegment}). */
  seg: OutboxSegment;
  /** Earlier segments still possibly on disk (rotated files), oldest first: where a key's line is. */
  segs: OutboxSegment[];
  /** Given-up keys to deliver again (`retry` records), until sent or given up again. */
  retry: Set<string>;
}

/** One outbox file: its identity (`<inode>:<birth time>`, null until first seen) and the position of its byte 0. */
export interface OutboxSegment {
  base: number;
  file: string | null;
}

/** Given-up messages remembered for `dispatcher retry`. */
export const MAX_DEAD = 1000;
/** Earlier segments remembered (a few bytes each; rotated files beyond this many are gone anyway). */
const MAX_SEGS = 1000;

/**
 * The segment holding position `pos` (the cursor, where a restarted dispatcher reads again): the
 * known one with the greatest base at or before it.
 */
export function segmentAt(s: LedgerState, pos: number): OutboxSegment {
  let best: OutboxSegment | null = null;
  for (const sg of [...s.segs, s.seg])
    if (sg.base <= pos && (best === null || sg.base >= best.base)) best = sg;
  return best ?? s.seg;
}

export function emptyLedgerState(): LedgerState {
  return {
    cursor: 0,
    done: new Map(),
    attempts: new Map(),
    threads: new Map(),
    seen: new Map(),
    acks: new Map(),
    dead: new Map(),
    seg: { base: 0, file: null },
    segs: [],
    retry: new Set(),
  };
}

/** `o123` → 123; other keys → NaN. */
export function offsetOfKey(k: string): number {
  return k.startsWith("o") ? Number(k.slice(1)) : Number.NaN;
}

/** Compare two service message ids (Slack `1700000000.000100`, Discord snowflakes). */
export function compareIds(a: string, b: string): number {
  if (a.includes(".") || b.includes(".")) return Number(a) - Number(b);
  try {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  } catch {
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

type Rec = Record<string, unknown> & { t: string };

function apply(s: LedgerState, r: Rec): void {
  const k = typeof r.k === "string" ? r.k : "";
  switch (r.t) {
    case "snapshot": {
      const snap = r as unknown as {
        cursor: number;
        done: [string, string | null][];
        attempts: [string, AttemptState][];
        threads: [string, ThreadState][];
        seen: [string, string][];
        acks: AckMessage[];
        dead: [string, string][];
        seg?: OutboxSegment;
        segs?: OutboxSegment[];
        retry?: string[];
      };
      s.cursor = snap.cursor;
      s.done = new Map(snap.done);
      s.attempts = new Map(snap.attempts);
      s.threads = new Map(snap.threads);
      s.seen = new Map(snap.seen);
      s.acks = new Map(snap.acks.map((a) => [a.k, a]));
      s.dead = new Map(snap.dead);
      s.seg = snap.seg ?? { base: 0, file: null };
      s.segs = snap.segs ?? [];
      s.retry = new Set(snap.retry ?? []);
      return;
    }
    case "segment": {
      const seg = { base: Number(r.base) || 0, file: typeof r.file === "string" ? r.file : null };
      if (s.seg.file !== null && s.seg.file !== seg.file) {
        s.segs.push(s.seg);
        if (s.segs.length > MAX_SEGS) s.segs.shift();
      }
      s.seg = seg;
      return;
    }
    case "retry":
      if (!s.dead.has(k)) return;
      s.dead.delete(k);
      s.done.delete(k);
      s.attempts.delete(k);
      s.retry.add(k);
      return;
    case "intent": {
      const a = s.attempts.get(k);
      const at = typeof r.at === "number" ? r.at : 0;
      s.attempts.set(
        k,
        a ? { ...a, inDoubt: true } : { n: 0, next: 0, inDoubt: true, firstAt: at, err: null },
      );
      return;
    }
    case "sent": {
      s.done.set(k, typeof r.id === "string" ? r.id : "-");
      s.attempts.delete(k);
      s.acks.delete(k);
      s.retry.delete(k);
      if (typeof r.tk === "string" && typeof r.th === "string")
        s.threads.set(r.tk, { ref: r.th, channel: (r.ch as string | null) ?? null, ready: r.ready === true });
      return;
    }
    case "fail": {
      const a = s.attempts.get(k);
      const next: AttemptState = {
        n: typeof r.n === "number" ? r.n : (a?.n ?? 0) + 1,
        next: typeof r.next === "number" ? r.next : 0,
        inDoubt: r.amb === true,
        firstAt: a?.firstAt ?? 0,
        err: typeof r.err === "string" ? r.err : null,
      };
      if (r.dead === true) {
        s.done.set(k, null);
        s.dead.delete(k); // re-inserted last: the newest are kept
        s.dead.set(k, next.err ?? "failed");
        if (s.dead.size > MAX_DEAD) s.dead.delete(s.dead.keys().next().value as string);
        s.attempts.delete(k);
        s.acks.delete(k);
        s.retry.delete(k);
      } else s.attempts.set(k, next);
      return;
    }
    case "thread_ok": {
      const th = s.threads.get(String(r.tk));
      if (th) th.ready = true;
      return;
    }
    case "seen":
      s.seen.set(String(r.tk), String(r.last));
      return;
    case "ack":
      if (!s.done.has(k)) s.acks.set(k, r as unknown as AckMessage);
      return;
    case "cursor": {
      const off = Number(r.off);
      if (off > s.cursor) s.cursor = off;
      prune(s);
      return;
    }
  }
}

/**
 * Forget outbox keys before the cursor (they are not read again). Given-up ones stay in `dead`
 * (bounded), so `dispatcher retry` can send them again.
 */
function prune(s: LedgerState): void {
  for (const k of [...s.done.keys()]) {
    const off = offsetOfKey(k);
    if (!Number.isNaN(off) && off < s.cursor) s.done.delete(k);
  }
}

export class Ledger {
  readonly state: LedgerState = emptyLedgerState();
  private lines = 0;

  constructor(readonly file: string) {
    const { records } = readJsonl<Rec>(file);
    for (const r of records) if (typeof r.t === "string") apply(this.state, r);
    this.lines = records.length;
  }

  /** Lines in the file (since it was last compacted). */
  get size(): number {
    return this.lines;
  }

  private add(r: Rec): void {
    appendJsonl(this.file, r);
    this.lines++;
    apply(this.state, r);
  }

  intent(k: string, at: number): void {
    this.add({ t: "intent", k, at });
  }

  sent(k: string, id: string, opened?: { tk: string; th: string; ch: string | null; ready: boolean }): void {
    this.add(opened ? { t: "sent", k, id, ...opened } : { t: "sent", k, id });
  }

  fail(k: string, n: number, err: string, amb: boolean, next: number, dead: boolean): void {
    this.add({ t: "fail", k, n, err, amb, next, dead });
  }

  threadOk(tk: string): void {
    this.add({ t: "thread_ok", tk });
  }

  seen(tk: string, last: string): void {
    this.add({ t: "seen", tk, last });
  }

  ack(a: AckMessage): void {
    if (this.state.done.has(a.k) || this.state.acks.has(a.k)) return;
    this.add({ t: "ack", ...a });
  }

  cursor(off: number): void {
    if (off > this.state.cursor) this.add({ t: "cursor", off });
  }

  /**
   * The reader moved to another outbox file (rotated, replaced, or first seen). Only a file past
   * the newest one known is recorded (a restarted dispatcher reads known ones again from its cursor).
   */
  segment(seg: OutboxSegment): void {
    const cur = this.state.seg;
    if (seg.base > cur.base || (seg.base === cur.base && seg.file !== cur.file))
      this.add({ t: "segment", base: seg.base, file: seg.file });
  }

  /** Deliver given-up message `k` again; false when `k` is not given up. */
  retry(k: string): boolean {
    if (!this.state.dead.has(k)) return false;
    this.add({ t: "retry", k });
    return true;
  }

  /**
   * Rewrite the ledger as one snapshot line (atomically: temp file, fsync, rename), when it has
   * grown past `maxLines`. Safe because only the dispatcher holding the lock writes the ledger.
   */
  compact(maxLines = 20_000): boolean {
    if (this.lines <= maxLines) return false;
    const s = this.state;
    // Acks answered long ago need not be remembered once their reply is behind the inbound cursor.
    for (const [k, v] of [...s.done]) {
      if (!k.startsWith("ack:")) continue;
      const bar = k.lastIndexOf("|");
      const tk = k.slice(4, bar);
      const reply = k.slice(bar + 1);
      const seen = s.seen.get(tk);
      if (v !== undefined && seen !== undefined && reply && compareIds(reply, seen) <= 0) s.done.delete(k);
    }
    const snap = {
      t: "snapshot",
      cursor: s.cursor,
      done: [...s.done],
      attempts: [...s.attempts],
      threads: [...s.threads],
      seen: [...s.seen],
      acks: [...s.acks.values()],
      dead: [...s.dead],
      seg: s.seg,
      segs: s.segs,
      retry: [...s.retry],
    };
    writeFileAtomicSync(this.file, `${JSON.stringify(snap)}\n`);
    this.lines = 1;
    return true;
  }
}
