/**
 * @module
 * Read the attempts ledger row by row without holding it: the file is read in 64 KiB chunks, split
 * at newline bytes, and each line is parsed (by the same {@link parseLedgerLine} as
 * {@link parseLedger}) and handed to a callback, then dropped. Used where a whole-ledger answer is
 * wanted (the web viewer's attempts page): at 100,000 rows the text, its lines and the row objects
 * of `readLedger` are well over 100 MB at the peak, while a scan holds one chunk and one row.
 *
 * The rows seen are exactly `readLedger`'s, in file order: lines are split on the `\n` byte, which
 * never occurs inside a UTF-8 sequence, so decoding line by line yields the same text as decoding
 * the whole file; a line spanning chunks is joined before it is decoded.
 */
import * as fs from "node:fs";
import {
  type Attempt,
  type LedgerColumnIndex,
  ledgerColumns,
  parseLedgerLine,
  withoutBom,
} from "./ledger.ts";

const CHUNK = 64 * 1024;

/**
 * Call `onRow` for every row of the ledger at `file`, in file order. Returns false (and calls
 * nothing) when the file does not exist; other read errors are thrown.
 */
export function scanLedger(file: string, onRow: (row: Attempt) => void, chunkBytes = CHUNK): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  let idx: LedgerColumnIndex | null = null;
  const line = (raw: string): void => {
    let text = raw;
    if (idx === null) {
      text = withoutBom(text);
      const c = ledgerColumns(text);
      idx = c.idx;
      if (c.header) return;
    }
    const row = parseLedgerLine(text, idx);
    if (row) onRow(row);
  };
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    // The pieces of a line that started in an earlier chunk and has not ended yet (joined once,
    // when it ends: a line longer than many chunks costs no repeated copying).
    const carry: Buffer[] = [];
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        if (carry.length > 0) {
          carry.push(chunk.subarray(start, nl));
          line(Buffer.concat(carry).toString("utf8"));
          carry.length = 0;
        } else {
          line(chunk.toString("utf8", start, nl));
        }
        start = nl + 1;
      }
      if (start < n) carry.push(Buffer.from(chunk.subarray(start)));
    }
    // The text after the last newline (empty when the file ends with one, as `split` gives).
    line(Buffer.concat(carry).toString("utf8"));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
