import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { IncidentIndex } from "./incident-index.ts";
import { JournalIndex } from "./journal-index.ts";
import { LineCursor } from "./line-cursor.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-web-index-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const line = (o: object) => `${JSON.stringify(o)}\n`;
const inc = (id: string, extra: object = {}) => ({
  id,
  time: `2026-11-2${id.slice(-1)}T10:00:00Z`,
  kind: "error",
  detector: "traceback",
  message: `boom ${id}`,
  exception_type: "ValueError",
  fingerprint: "fp1",
  rule: null,
  action: null,
  source: null,
  generation: 1,
  ...extra,
});

describe("IncidentIndex", () => {
  test("follows index.jsonl growth, merges by id, filters and pages newest first", () => {
    const f = path.join(tmp, "index.jsonl");
    fs.writeFileSync(f, line(inc("a1")) + line(inc("a2", { detector: "oom", fingerprint: "fp2" })));
    const ix = new IncidentIndex(f);
    expect(ix.refresh().added).toEqual(["a1", "a2"]);
    // An outcome line for a1, a new incident, and a torn last line (not read until complete).
    fs.appendFileSync(f, line(inc("a1", { rule: "r", action: "restart" })) + line(inc("a3")) + '{"id":"a4"');
    const r = ix.refresh();
    expect(r.added).toEqual(["a3"]);
    expect(r.updated).toEqual(["a1"]);
    expect(ix.size).toBe(3);
    expect(ix.get("a1")?.rule).toBe("r");
    expect(ix.query({}).items.map((e) => e.id)).toEqual(["a3", "a2", "a1"]);
    expect(ix.query({ detector: "oom" }).items.map((e) => e.id)).toEqual(["a2"]);
    expect(ix.query({ q: "BOOM A3" }).items.map((e) => e.id)).toEqual(["a3"]);
    expect(ix.query({ group: "fp1" }).total).toBe(2);
    expect(ix.query({ since: Date.parse("2026-11-22T00:00:00Z") }).items.map((e) => e.id)).toEqual([
      "a3",
      "a2",
    ]);
    const p2 = ix.query({ perPage: 2, page: 2 });
    expect([p2.pages, p2.items.map((e) => e.id)]).toEqual([2, ["a1"]]);
    expect(ix.earlier(ix.get("a3")!).map((e) => e.id)).toEqual(["a1"]);
    expect(ix.groups({}).groups.map((g) => [g.fingerprint, g.count])).toEqual([
      ["fp1", 2],
      ["fp2", 1],
    ]);
    fs.appendFileSync(f, `"}\n`);
    ix.refresh();
    expect(ix.size).toBe(3); // the completed line has an id but is otherwise empty: still an incident
  });

  test("a replaced index is read again from the start", () => {
    const f = path.join(tmp, "index2.jsonl");
    fs.writeFileSync(f, line(inc("b1")) + line(inc("b2")));
    const ix = new IncidentIndex(f);
    ix.refresh();
    fs.writeFileSync(`${f}.new`, line(inc("c1")));
    fs.renameSync(`${f}.new`, f);
    const r = ix.refresh();
    expect(r.reset).toBe(true);
    expect(ix.query({}).items.map((e) => e.id)).toEqual(["c1"]);
  });
});

describe("JournalIndex", () => {
  test("indexes by range and reads pages back from the file", () => {
    const f = path.join(tmp, "events.jsonl");
    const ev = (i: number, event: string, extra: object = {}) =>
      line({ schema_version: 1, time: `2026-11-20T10:00:0${i}Z`, run_id: "r", stage: null, event, ...extra });
    fs.writeFileSync(
      f,
      ev(0, "monitor_started") + ev(1, "child_started") + ev(2, "incident", { incident_id: "x1" }),
    );
    const j = new JournalIndex(f);
    expect(j.refresh().added.map((e) => e.event)).toEqual(["monitor_started", "child_started", "incident"]);
    fs.appendFileSync(f, "not json\n" + ev(3, "restart_scheduled", { incident_id: "x1", note: "é ünïcode" }));
    expect(j.refresh().added.map((e) => e.seq)).toEqual([3]);
    expect(j.size).toBe(4);
    expect(j.query({}).items.map((e) => e.event)).toEqual([
      "restart_scheduled",
      "incident",
      "child_started",
      "monitor_started",
    ]);
    expect(j.query({ incident: "x1" }).items.map((e) => e.seq)).toEqual([3, 2]);
    expect(j.query({ kinds: ["child_started", "incident"] }).total).toBe(2);
    expect(j.query({ q: "ÜNÏCODE" }).items.map((e) => e.note)).toEqual(["é ünïcode"]);
    expect(j.query({ until: Date.parse("2026-11-20T10:00:01Z") }).total).toBe(2);
    expect(j.since(1).map((e) => e.seq)).toEqual([2, 3]);
    expect(j.kindList()).toEqual(["child_started", "incident", "monitor_started", "restart_scheduled"]);
  });

  test("a replaced or truncated journal is indexed again from its start, once", () => {
    const f = path.join(tmp, "events2.jsonl");
    const ev = (event: string, extra: object = {}) =>
      line({ schema_version: 1, time: "2026-11-20T10:00:00Z", run_id: "r", stage: null, event, ...extra });
    fs.writeFileSync(f, ev("monitor_started") + ev("incident", { incident_id: "old" }) + ev("child_exited"));
    const j = new JournalIndex(f);
    j.refresh();
    fs.writeFileSync(`${f}.new`, ev("child_started"));
    fs.renameSync(`${f}.new`, f);
    const r = j.refresh();
    expect(r.reset).toBe(true);
    expect(r.added.map((e) => [e.seq, e.event])).toEqual([[0, "child_started"]]);
    expect(j.size).toBe(1);
    expect(j.kindList()).toEqual(["child_started"]);
    expect(j.query({ incident: "old" }).total).toBe(0);
    // Same inode, but shorter than what was read: a truncation, read again from 0.
    fs.truncateSync(f, 0);
    fs.appendFileSync(f, ev("stall"));
    expect(j.refresh().reset).toBe(true);
    expect(j.query({}).items.map((e) => e.event)).toEqual(["stall"]);
  });
});

describe("LineCursor", () => {
  test("lines longer than a read chunk, torn tails and offsets", () => {
    const f = path.join(tmp, "long.jsonl");
    const big = "x".repeat(2_600_000);
    fs.writeFileSync(f, `a\n${big}\nbc`);
    const c = new LineCursor(f);
    const first = c.read();
    expect(first.lines.map((l) => [l.offset, l.length])).toEqual([
      [0, 1],
      [2, big.length],
    ]);
    expect(first.lines[1]!.text === big).toBe(true);
    fs.appendFileSync(f, "d\né\n");
    const second = c.read();
    expect(second.lines.map((l) => [l.text, l.offset, l.length])).toEqual([
      ["bcd", big.length + 3, 3],
      ["é", big.length + 7, 2],
    ]);
    expect(c.read().lines).toEqual([]);
  });
});
