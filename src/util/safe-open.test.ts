import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appendAttempt, readLedger } from "../fixes/ledger.ts";
import { readControl, sendControl } from "../monitor/control.ts";
import { appendJsonl } from "./jsonl.ts";
import { FileLogger } from "./logger.ts";
import { SymlinkRefusedError } from "./safe-open.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "as-safe-"));
  dirs.push(d);
  return d;
}

/** A project dir with `rel` a symlink to a file outside; returns [link, outside file]. */
function planted(rel: string): [string, string] {
  const d = scratch();
  const outside = path.join(scratch(), "victim");
  fs.writeFileSync(outside, "precious\n");
  const link = path.join(d, rel);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(outside, link);
  return [link, outside];
}

test("control.jsonl: `pause` refuses a symlink", () => {
  const [link, outside] = planted(".autosentry/control.jsonl");
  expect(() => sendControl(link, "pause")).toThrow(SymlinkRefusedError);
  expect(fs.readFileSync(outside, "utf8")).toBe("precious\n");
});

test("attempts.tsv: an attempt is never appended through a symlink", () => {
  const [link, outside] = planted(".autosentry/attempts.tsv");
  expect(() =>
    appendAttempt(link, { incident_id: "i", detector: "d", source: "s", description: "x" }),
  ).toThrow(SymlinkRefusedError);
  expect(fs.readFileSync(outside, "utf8")).toBe("precious\n");
});

test("a symlinked directory holding a jsonl file is refused", () => {
  const d = scratch();
  const outsideDir = scratch();
  fs.symlinkSync(outsideDir, path.join(d, "logs"));
  expect(() => appendJsonl(path.join(d, "logs", "events.jsonl"), { a: 1 })).toThrow(SymlinkRefusedError);
  expect(fs.readdirSync(outsideDir)).toEqual([]);
});

test("the file logger refuses a symlink, says so once on stderr, and keeps going", () => {
  const [link, outside] = planted("logs/autosentry.log");
  const log = new FileLogger(link, { echo: false });
  log.info("one");
  log.info("two");
  expect(log.writeFailure).toContain("symbolic link");
  expect(fs.readFileSync(outside, "utf8")).toBe("precious\n");
});

test("a torn last line in control.jsonl does not swallow the next pause", () => {
  const d = scratch();
  const file = path.join(d, "control.jsonl");
  fs.writeFileSync(file, '{"id":"1","command":"resu'); // a writer killed mid-line
  sendControl(file, "pause");
  const { commands } = readControl(file, 0);
  expect(commands.map((c) => c.command)).toEqual(["pause"]);
});

test("garbage rows in attempts.tsv are not attempts", () => {
  const d = scratch();
  const file = path.join(d, "attempts.tsv");
  appendAttempt(file, { incident_id: "inc-1", detector: "d", source: "claude", description: "x" });
  fs.appendFileSync(file, "garbage line\n\t\t\t\n#comment\tzzz\n");
  const rows = readLedger(file);
  expect(rows).toHaveLength(1);
  expect(rows[0]!.incident_id).toBe("inc-1");
});
