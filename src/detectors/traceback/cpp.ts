/**
 * @module
 * C++ exceptions that reached `std::terminate`, as libtorch prints them:
 * `terminate called after throwing an instance of 'c10::Error'`, `  what():  CUDA error: …` (a
 * message of several lines), then `Exception raised from FN at FILE:LINE (most recent call first):`
 * and `frame #N: symbol + 0x… (0x… in /path/lib.so)` lines; older releases put the location at the
 * end of the what() line (`(insert_events at …/CUDACachingAllocator.cpp:569)`). Several
 * `Exception raised from` blocks may follow each other (a watchdog rethrowing).
 *
 * The innermost frame is where the exception was raised (file and line of the C++ source); the
 * `frame #N` lines follow with the shared library as file and line 0 (no line is printed).
 */
import type { Frame } from "../../core/types.ts";
import { CPP_HEADER, isTraceStart } from "./markers.ts";
import {
  type Feed,
  isBlank,
  type ParsedTrace,
  REJECT,
  TAKE,
  type TraceParser,
  trimTrailingBlank,
} from "./types.ts";

const WHAT = /^\s*what\(\):\s*(.*)$/;
const RAISED = /^Exception raised from (\S+) at (.+):(\d+) \(most recent call first\):$/;
const CPP_FRAME = /^frame #(\d+): (.*?)(?: \+ 0x[0-9a-f]+)? \((?:0x[0-9a-f]+ in )?(.+)\)$/;
const OLD_LOCATION = / \((\S+) at (.+):(\d+)\)$/;
/** Lines that end the process after the trace (the shell's report of SIGABRT and friends). */
const CRASH_LINE = /^(?:Aborted|Segmentation fault|Fatal Python error)|core dumped\)/;

const HEAD = 0;
const FRAMES = 1;
const GAP = 2;
const MAX_HEAD_LINES = 20;

export class CppTrace implements TraceParser {
  readonly lang = "cpp" as const;
  readonly lines: string[] = [];
  private state = HEAD;
  private count = 0;

  private constructor(first: string) {
    this.lines.push(first);
  }

  static start(text: string): CppTrace | null {
    const m = CPP_HEADER.exec(text);
    return m ? new CppTrace(text.slice(m[1]!.length)) : null;
  }

  feed(t: string, newRecord: boolean): Feed {
    if (newRecord) return REJECT;
    switch (this.state) {
      case HEAD:
        if (RAISED.test(t) || CPP_FRAME.test(t)) this.state = FRAMES;
        else if (isBlank(t)) {
          if (++this.count > MAX_HEAD_LINES) return REJECT;
        } else if (CRASH_LINE.test(t) || isTraceStart(t) || ++this.count > MAX_HEAD_LINES) return REJECT;
        break;
      case FRAMES:
        if (isBlank(t)) this.state = GAP;
        else if (!CPP_FRAME.test(t) && !RAISED.test(t)) return REJECT;
        break;
      case GAP:
        if (isBlank(t)) return REJECT;
        if (RAISED.test(t) || CPP_HEADER.test(t)) this.state = FRAMES;
        else return REJECT;
        break;
    }
    this.lines.push(t);
    return TAKE;
  }

  finish(): ParsedTrace {
    return parseCpp(this.lines);
  }
}

/** Read a whole C++ terminate text. */
export function parseCpp(all: string[]): ParsedTrace {
  const lines = trimTrailingBlank(all.slice());
  const head = CPP_HEADER.exec(lines[0] ?? "");
  const type = head?.[2] ?? null;
  const msg: string[] = [];
  const frames: Frame[] = [];
  let i = 1;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (RAISED.test(l) || CPP_FRAME.test(l)) break;
    const w = WHAT.exec(l);
    msg.push(w ? w[1]! : l);
  }
  let message = trimTrailingBlank(msg).join("\n").trim();
  if (type === null && message === "") message = (lines[0] ?? "").trim();
  const old = OLD_LOCATION.exec(message.split("\n")[0] ?? "");
  if (old) {
    frames.push({ file: old[2]!, line: Number(old[3]), function: old[1]!, raw: old[0].trim() });
  }
  let raisedSeen = false;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    const r = RAISED.exec(l);
    if (r) {
      // only the first block is this exception's own; later ones are rethrows of the same error
      if (raisedSeen) break;
      raisedSeen = true;
      frames.unshift({ file: r[2]!, line: Number(r[3]), function: r[1]!, raw: l });
      continue;
    }
    const f = CPP_FRAME.exec(l);
    if (f) frames.push({ file: f[3]!, line: 0, function: f[2]!, raw: l });
  }
  const first = message.split("\n")[0] ?? "";
  const headline = type !== null ? `${type}: ${first}` : first;
  return { exceptions: [{ type, message, frames }], headline, exceptionType: type };
}
