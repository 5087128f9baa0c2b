import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  appendAttempt,
  isoTimestamp,
  LEDGER_COLUMNS,
  ledgerPath,
  parseLedger,
  readLedger,
  updateAttempt,
} from "./ledger.ts";

let tmp: string;
let file: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-ledger-"));
  file = ledgerPath(tmp);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T = Date.UTC(2026, 10, 22, 3, 4, 5, 123);

describe("ledger", () => {
  test("path and timestamp follow the Python tool", () => {
    expect(file).toBe(path.join(tmp, ".autosentry", "attempts.tsv"));
    expect(isoTimestamp(T)).toBe("2026-11-22T03:04:05.123000+00:00");
  });

  test("append writes the header once, then one line per attempt, cleaning tabs and newlines", () => {
    appendAttempt(file, {
      incident_id: "i1",
      detector: "oom",
      source: "halve_batch",
      description: "CUDA\tout of\nmemory",
      at: T,
    });
    appendAttempt(file, {
      incident_id: "i2",
      detector: "traceback",
      source: "claude",
      branch: "autosentry/fix-i2",
      description: "x".repeat(300),
      at: T + 1000,
    });
    const lines = fs.readFileSync(file, "utf8").split("\n");
    expect(lines[0]).toBe(LEDGER_COLUMNS.join("\t"));
    expect(lines[1]).toBe(
      "2026-11-22T03:04:05.123000+00:00\ti1\toom\thalve_batch\t\tpending\t0.0\tCUDA out of memory",
    );
    expect(lines[2]!.split("\t")).toHaveLength(8);
    expect(lines[2]!.split("\t")[7]).toHaveLength(200);
    expect(lines[3]).toBe("");
    expect(lines).toHaveLength(4);
  });

  test("a torn last line from a crash is ended before the next row", () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${LEDGER_COLUMNS.join("\t")}\n2026-01-01T00:00:00+00:00\tiX\td`);
    appendAttempt(file, { incident_id: "i1", detector: "oom", source: "r", description: "m", at: T });
    const rows = readLedger(file);
    expect(rows.map((r) => r.incident_id)).toEqual(["iX", "i1"]);
    expect(rows[0]).toMatchObject({ detector: "d", source: "", status: "pending", duration_seconds: 0 });
  });

  test("update changes only the most recent row of (incident_id, source), atomically, every other byte kept", () => {
    appendAttempt(file, { incident_id: "i1", detector: "oom", source: "claude", description: "a", at: T });
    appendAttempt(file, { incident_id: "i1", detector: "oom", source: "halve", description: "b", at: T });
    appendAttempt(file, { incident_id: "i1", detector: "oom", source: "claude", description: "c", at: T });
    appendAttempt(file, { incident_id: "i2", detector: "oom", source: "claude", description: "d", at: T });
    const before = fs.readFileSync(file, "utf8").split("\n");
    expect(updateAttempt(file, "i1", "claude", { status: "kept", duration_seconds: 600 })).toBe(true);
    const after = fs.readFileSync(file, "utf8").split("\n");
    expect(after[3]).toBe(before[3]!.replace("\tpending\t0.0\t", "\tkept\t600.0\t"));
    expect([after[0], after[1], after[2], after[4], after[5]]).toEqual([
      before[0],
      before[1],
      before[2],
      before[4],
      before[5],
    ]);
    expect(
      updateAttempt(file, "i1", "claude", { status: "regressed", duration_seconds: 12.5, branch: "b/x" }),
    ).toBe(true);
    expect(readLedger(file)[2]).toMatchObject({ status: "regressed", duration_seconds: 12.5, branch: "b/x" });
    expect(fs.readdirSync(path.dirname(file))).toEqual(["attempts.tsv"]);
  });

  test("update of a missing row or file returns false and writes nothing", () => {
    expect(updateAttempt(file, "nope", "claude", { status: "kept" })).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
    appendAttempt(file, { incident_id: "i1", detector: "oom", source: "claude", description: "a", at: T });
    const text = fs.readFileSync(file, "utf8");
    expect(updateAttempt(file, "i1", "rule", { status: "kept" })).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe(text);
  });

  test("reads Python-written files: header-mapped, short rows padded, unknown status → pending, CRLF", () => {
    const text =
      `${LEDGER_COLUMNS.join("\t")}\r\n` +
      "2026-07-28T10:00:00.000001+00:00\t20260728-100000-oom\toom\thalve_batch\t\tkept\t600.0\tCUDA oom\r\n" +
      "2026-07-28T11:00:00+00:00\t20260728-110000-tb\ttraceback\tclaude\tautosentry/fix-x\tweird\t1.5\r\n" +
      "2026-07-28T12:00:00\tid3\tstall\n";
    const rows = parseLedger(text);
    expect(rows).toEqual([
      {
        timestamp: "2026-07-28T10:00:00.000001+00:00",
        incident_id: "20260728-100000-oom",
        detector: "oom",
        source: "halve_batch",
        branch: "",
        status: "kept",
        duration_seconds: 600,
        description: "CUDA oom",
      },
      {
        timestamp: "2026-07-28T11:00:00+00:00",
        incident_id: "20260728-110000-tb",
        detector: "traceback",
        source: "claude",
        branch: "autosentry/fix-x",
        status: "pending",
        duration_seconds: 1.5,
        description: "",
      },
      {
        timestamp: "2026-07-28T12:00:00",
        incident_id: "id3",
        detector: "stall",
        source: "",
        branch: "",
        status: "pending",
        duration_seconds: 0,
        description: "",
      },
    ]);
  });

  test("a file with its columns in another order is read by name and rewritten in the standard layout", () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      "incident_id\tstatus\tsource\ttimestamp\tdetector\tbranch\tduration_seconds\tdescription\ni1\tpending\tclaude\t2026-01-01T00:00:00+00:00\toom\t\t0\tm\n",
    );
    expect(readLedger(file)[0]).toMatchObject({ incident_id: "i1", source: "claude", detector: "oom" });
    expect(updateAttempt(file, "i1", "claude", { status: "crashed" })).toBe(true);
    expect(fs.readFileSync(file, "utf8")).toBe(
      `${LEDGER_COLUMNS.join("\t")}\n2026-01-01T00:00:00+00:00\ti1\toom\tclaude\t\tcrashed\t0.0\tm\n`,
    );
  });
});
