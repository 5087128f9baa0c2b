import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type Attempt, formatAttempt, isoTimestamp, LEDGER_COLUMNS, readLedger } from "./ledger.ts";
import { scanLedger } from "./ledger-scan.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-ledger-scan-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let nth = 0;
function write(content: string | Buffer): string {
  const file = path.join(dir, `ledger-${nth++}.tsv`);
  fs.writeFileSync(file, content);
  return file;
}

function scanned(file: string, chunk?: number): Attempt[] {
  const rows: Attempt[] = [];
  scanLedger(file, (r) => rows.push(r), chunk);
  return rows;
}

const HEADER = `${LEDGER_COLUMNS.join("\t")}\n`;
const row = (i: number, extra: Partial<Attempt> = {}): string =>
  formatAttempt({
    timestamp: isoTimestamp(Date.UTC(2026, 10, 1) + i * 60_000),
    incident_id: `inc-${i}`,
    detector: `d${i % 3}`,
    source: i % 2 ? "claude" : "rule_a",
    branch: "",
    status: (["kept", "pending", "regressed"] as const)[i % 3]!,
    duration_seconds: i + 0.5,
    description: `row ${i} — ünïcödé 日本`,
    ...extra,
  });

describe("scanLedger", () => {
  test("gives readLedger's rows for every chunk size, whatever the line endings and garbage", () => {
    const utf8 = (t: string): Buffer => Buffer.from(t, "utf8");
    const bytes = Buffer.concat([
      utf8(HEADER),
      utf8(row(1)),
      utf8("\n"),
      utf8("garbage without tabs\n"),
      utf8("\tno-time\tx\n"), // no timestamp
      utf8("2026-11-01T00:00:00+00:00\t\td\ts\t\tkept\t1.0\tno incident id\n"),
      utf8(row(2).replace("\n", "\r\n")),
      utf8("2026-11-01T00:05:00+00:00\tinc-short\td9\n"), // short row: padded
      utf8(row(3).replace("\tkept\t", "\tweird\t")), // unknown status reads as pending
      // Invalid UTF-8 (a torn multi-byte sequence) right before a newline, at the end of a row.
      utf8(row(7)).subarray(0, -1),
      Buffer.from([0xe2, 0x82, 0x0a]),
      utf8(row(4)),
      utf8(row(5, { description: "x".repeat(100_000) })), // a line longer than many chunks
      utf8(row(6).slice(0, -1)), // no trailing newline
    ]);
    const file = write(bytes);
    const expected = readLedger(file);
    expect(expected.length).toBe(8); // 1, 2, short, 3, 7, 4, 5, 6
    for (const chunk of [1, 2, 3, 7, 64, 1000, 65_536, 1 << 20]) {
      expect(scanned(file, chunk)).toEqual(expected);
    }
  });

  test("a file without a header row, with a CRLF header, empty, or missing", () => {
    const noHeader = write(row(1) + row(2));
    expect(scanned(noHeader, 5)).toEqual(readLedger(noHeader));
    expect(scanned(noHeader)).toHaveLength(2);
    const crlf = write(HEADER.replace("\n", "\r\n") + row(1).replace("\n", "\r\n"));
    expect(scanned(crlf, 4)).toEqual(readLedger(crlf));
    expect(scanned(crlf)).toHaveLength(1);
    // Columns in another order: the header names them.
    const cols = [...LEDGER_COLUMNS].reverse();
    const other = write(
      `${cols.join("\t")}\n${cols.map((c) => (c === "timestamp" ? "2026-11-01T00:00:00+00:00" : c === "duration_seconds" ? "3.5" : `v-${c}`)).join("\t")}\n`,
    );
    expect(scanned(other, 3)).toEqual(readLedger(other));
    expect(scanned(other)[0]!.duration_seconds).toBe(3.5);
    const empty = write("");
    expect(scanned(empty)).toEqual([]);
    expect(scanned(write(HEADER))).toEqual([]);
    let called = 0;
    expect(scanLedger(path.join(dir, "missing.tsv"), () => called++)).toBe(false);
    expect(called).toBe(0);
    expect(scanLedger(empty, () => called++)).toBe(true);
  });

  test("a ledger that starts with a UTF-8 byte order mark (saved by a spreadsheet) keeps every row", () => {
    const bom = "\uFEFF";
    const withHeader = write(bom + HEADER + row(1) + row(2));
    expect(readLedger(withHeader)).toHaveLength(2);
    expect(readLedger(withHeader)[0]!.timestamp).toBe(isoTimestamp(Date.UTC(2026, 10, 1) + 60_000));
    const bare = write(bom + row(1) + row(2));
    expect(readLedger(bare)).toHaveLength(2);
    for (const file of [withHeader, bare]) {
      for (const chunk of [1, 2, 5, 65_536]) expect(scanned(file, chunk)).toEqual(readLedger(file));
    }
  });
});
