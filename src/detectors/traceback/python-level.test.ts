/**
 * Where a Python exception's message ends when the logger prefixes every line of the log: the
 * trace's lines and its message's continuation lines carry one level (`ERROR`), and the next record
 * of another level (`INFO … continuing`) is not part of the message. Real output of stdlib logging
 * (a formatter that prefixes every line of a record), of loguru relaying a child's output (one
 * record per line), and the logging one under torchrun's `[rank0]:` / `[rank1]:` labels.
 */
import { describe, expect, test } from "bun:test";
import type { Detection } from "../../core/types.ts";
import { detectAll, fixture } from "./test-helpers.ts";

function finalMessage(d: Detection): string {
  return d.trace!.exceptions.at(-1)!.message;
}

const LOGGING_MESSAGE = "bad header in shard 7\nexpected 'id,text', got 'id;text'";
const LOGURU_MESSAGE =
  "max_length 8192 exceeds model limit 4096\nlower --max-length or use a longer-context model";

describe("a logger that prefixes every line", () => {
  test("stdlib logging: the message keeps its ERROR continuation line and stops at the INFO record", () => {
    const found = detectAll(fixture("python/every_line_logging.txt"));
    expect(found.length).toBe(1);
    const d = found[0]!;
    expect(d.exceptionType).toBe("ValueError");
    expect(finalMessage(d)).toBe(LOGGING_MESSAGE);
    expect([d.meta["line_no"], d.meta["end_line_no"]]).toEqual([5, 11]);
    expect(d.trace!.text).not.toContain("continuing");
  });

  test("loguru relaying stderr at ERROR: the relay's own INFO record after it is not the message", () => {
    const found = detectAll(fixture("python/every_line_loguru.txt"));
    expect(found.length).toBe(1);
    const d = found[0]!;
    expect(d.exceptionType).toBe("ValueError");
    expect(finalMessage(d)).toBe(LOGURU_MESSAGE);
    expect([d.meta["line_no"], d.meta["end_line_no"]]).toEqual([2, 8]);
    expect(d.trace!.text).not.toContain("child exited");
  });

  test("torchrun [rank0]:/[rank1]: interleaved: each rank's message ends at its own INFO record", () => {
    const found = detectAll(fixture("prefixes/torchrun-every-line.txt"));
    expect(found.map((d) => d.meta["source"]).sort()).toEqual(["rank0", "rank1"]);
    for (const d of found) {
      expect(d.exceptionType).toBe("ValueError");
      expect(finalMessage(d)).toBe(LOGGING_MESSAGE);
      expect(d.trace!.text).not.toContain("continuing");
    }
  });

  test("a new timestamp on a message line of the same level does not end the message", () => {
    // a relay stamps each line as it reads it: the clock may tick inside one trace
    const lines = fixture("python/every_line_loguru.txt").split("\n");
    lines[6] = lines[6]!.replace("17:50:14.040", "17:50:14.041");
    expect(lines[6]).toContain("17:50:14.041 | ERROR");
    const found = detectAll(lines.join("\n"));
    expect(found.length).toBe(1);
    expect(finalMessage(found[0]!)).toBe(LOGURU_MESSAGE);
  });

  test("inside the frames, the relay's INFO metrics line read in between is skipped, not the end", () => {
    // stdout relayed at INFO arriving between the stderr lines relayed at ERROR
    const lines = fixture("python/every_line_loguru.txt").split("\n");
    lines.splice(3, 0, "2026-12-03 17:50:14.040 | INFO     | __main__:<module>:13 - step 5 loss 2.3137");
    const found = detectAll(lines.join("\n"));
    expect(found.length).toBe(1);
    const d = found[0]!;
    expect(finalMessage(d)).toBe(LOGURU_MESSAGE);
    expect(d.trace!.exceptions.at(-1)!.frames.map((f) => f.line)).toEqual([4, 8]);
    expect(d.trace!.text).not.toContain("step 5");
  });

  test("a level change also ends a message in a log whose lines carry only a level (ERROR:root:)", () => {
    const text = [
      "ERROR:root:Traceback (most recent call last):",
      'ERROR:root:  File "/w/train.py", line 3, in <module>',
      "ERROR:root:    main()",
      "ERROR:root:RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:1275",
      "ERROR:root:Last error: socket timeout",
      "INFO:root:shutting down workers",
      "INFO:root:bye",
    ].join("\n");
    const found = detectAll(text);
    expect(found.length).toBe(1);
    expect(finalMessage(found[0]!)).toBe(
      "NCCL error in: ProcessGroupNCCL.cpp:1275\nLast error: socket timeout",
    );
    expect(found[0]!.meta["end_line_no"]).toBe(5);
  });
});
