import { describe, expect, test } from "bun:test";
import { parsePrefix, RECORD_LEVEL, RECORD_TIME } from "./prefix.ts";

describe("parsePrefix", () => {
  const cases: [string, string, string, number][] = [
    // line, key, text, record bits
    ["Traceback (most recent call last):", "", "Traceback (most recent call last):", 0],
    ["2026-11-22T03:04:05.123Z Traceback (x", "", "Traceback (x", RECORD_TIME],
    ["2026-11-22 03:04:05,123 ERROR train: step failed", "", "step failed", RECORD_TIME | RECORD_LEVEL],
    ["[2026-11-22 03:04:05,123] ValueError: x", "", "ValueError: x", RECORD_TIME],
    ["2026-11-22 03:04:05,123 - train - ERROR - boom", "", "boom", RECORD_TIME | RECORD_LEVEL],
    ['Nov 22 03:04:05 node7 train[4242]:   File "a.py", line 1', "", '  File "a.py", line 1', RECORD_TIME],
    ["E1122 03:04:05.123456  4242 train.cc:12] panic: x", "", "panic: x", RECORD_TIME | RECORD_LEVEL],
    ["ERROR:root:Traceback (most recent call last):", "", "Traceback (most recent call last):", RECORD_LEVEL],
    ["ERROR __main__: something", "", "something", RECORD_LEVEL],
    ["[ERROR] TypeError: x", "", "TypeError: x", RECORD_LEVEL],
    [
      "2026-12-03 17:50:14.040 | ERROR    | __main__:<module>:15 - ValueError: x",
      "",
      "ValueError: x",
      RECORD_TIME | RECORD_LEVEL,
    ],
    ["2026-12-03 17:50:14.040 | SUCCESS  | train:fit:88 - done", "", "done", RECORD_TIME | RECORD_LEVEL],
    ["03:04:05 step 5", "", "step 5", RECORD_TIME],
    ['[rank3]:   File "a.py", line 1, in f', "rank3", '  File "a.py", line 1, in f', 0],
    ["rank3: ValueError: bad", "rank3", "ValueError: bad", 0],
    ["[default0]:Traceback (most recent call last):", "default0", "Traceback (most recent call last):", 0],
    ["[default1]:[rank1]: KeyError: 'x'", "default1/rank1", "KeyError: 'x'", 0],
    ["3: Traceback (most recent call last):", "task3", "Traceback (most recent call last):", 0],
    [" 3:     at f (/a.js:1:2)", "task3", "    at f (/a.js:1:2)", 0],
    ["[1,0]<stderr>:panic: boom", "1,0", "panic: boom", 0],
    ["trainer-1  | \tat Main.main(Main.java:5)", "trainer-1", "\tat Main.main(Main.java:5)", 0],
    ["trainer-1  | 2026-11-22T03:04:05Z [rank0]: x", "trainer-1/rank0", "x", RECORD_TIME],
    ["\x1b[31mTraceback (most recent call last):\x1b[0m", "", "Traceback (most recent call last):", 0],
    // not prefixes
    ["ValueError: bad", "", "ValueError: bad", 0],
    ["    at f (/a.js:1:2)", "", "    at f (/a.js:1:2)", 0],
    ["\t/tmp/main.go:5 +0x1d", "", "\t/tmp/main.go:5 +0x1d", 0],
    ["error_rate=0.01", "", "error_rate=0.01", 0],
    ["loss 0.5 | acc 0.9", "", "loss 0.5 | acc 0.9", 0],
  ];
  for (const [line, key, text, record] of cases) {
    test(JSON.stringify(line), () => {
      const r = parsePrefix(line);
      expect(r.key).toBe(key);
      expect(r.text).toBe(text);
      expect(r.record).toBe(record);
    });
  }

  // line, the level it names (the outermost one, normalised)
  const levels: [string, string][] = [
    ["2026-12-03 17:50:13,953 ERROR train: step failed", "ERROR"],
    ["2026-12-03 17:50:14.040 | INFO     | __main__:<module>:16 - child exited", "INFO"],
    ["2024-11-02 08:01:57,402 | ERROR | ft.main | ValueError: x", "ERROR"],
    ["[rank0]:2026-12-03 17:50:13,953 WARNING train: batch 17 skipped", "WARNING"],
    ["ERROR:root:Traceback (most recent call last):", "ERROR"],
    ["2026-11-22 03:04:05,123 - train - CRITICAL - boom", "CRITICAL"],
    ["[WARN] low disk", "WARNING"],
    ["E1122 03:04:05.123456  4242 train.cc:12] panic: x", "ERROR"],
    ["W1122 03:04:05.123456  4242 train.cc:12] slow", "WARNING"],
    ["2026-12-03 17:50:13,953 INFO train: WARNING: not the record's level", "INFO"],
    ["2026-11-22T03:04:05.123Z Traceback (x", ""],
    ["[rank3]: ValueError: bad", ""],
    ["ValueError: bad", ""],
  ];
  for (const [line, level] of levels) {
    test(`level of ${JSON.stringify(line)}`, () => {
      expect(parsePrefix(line).level).toBe(level);
    });
  }

  test("a Rust backtrace frame is kept when labels are not allowed", () => {
    const r = parsePrefix("   3: trainer::main", false);
    expect(r.text).toBe("   3: trainer::main");
    expect(r.labelled).toBe(false);
    expect(parsePrefix("   3: trainer::main").labelled).toBe(true);
  });
});
