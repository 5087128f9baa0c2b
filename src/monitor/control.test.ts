import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONTROL_VERBS, readControl, sendControl } from "./control.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-control-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the control inbox", () => {
  test("a missing file has no commands", () => {
    expect(readControl(path.join(dir, "none.jsonl"), 0)).toEqual({ commands: [], offset: 0 });
  });

  test("reads what is new after the offset, whole lines only", () => {
    const file = path.join(dir, "a.jsonl");
    const sent = sendControl(file, "pause", "maintenance");
    const first = readControl(file, 0);
    expect(first.commands).toEqual([sent]);
    expect(first.offset).toBe(fs.statSync(file).size);
    // A line still being written is left for the next read.
    fs.appendFileSync(file, '{"command":"resume"');
    expect(readControl(file, first.offset)).toEqual({ commands: [], offset: first.offset });
    fs.appendFileSync(file, ',"user":"u","id":"x","time":"t","reason":null}\n');
    const second = readControl(file, first.offset);
    expect(second.commands.map((c) => c.command)).toEqual(["resume"]);
    expect(second.offset).toBe(fs.statSync(file).size);
  });

  test("malformed lines and unknown verbs are skipped; the offset moves past them", () => {
    const file = path.join(dir, "b.jsonl");
    fs.writeFileSync(file, 'not json\n{"command":"explode","user":"u"}\n');
    const approve = sendControl(file, "approve", null, "oom");
    const res = readControl(file, 0);
    expect(res.commands).toEqual([approve]);
    expect(res.offset).toBe(fs.statSync(file).size);
  });

  test("a truncated file is read from the start again", () => {
    const file = path.join(dir, "c.jsonl");
    const abort = sendControl(file, "abort");
    expect(readControl(file, 10_000).commands).toEqual([abort]);
  });

  test("every verb is understood", () => {
    const file = path.join(dir, "d.jsonl");
    for (const v of CONTROL_VERBS) sendControl(file, v);
    expect(readControl(file, 0).commands.map((c) => c.command)).toEqual([...CONTROL_VERBS]);
  });
});
