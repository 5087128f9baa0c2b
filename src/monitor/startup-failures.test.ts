import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildExit } from "../core/types.ts";
import { describeStartupFailures, lastLine, noteFailedExit, STARTUP_SECONDS } from "./startup-failures.ts";
import { emptyState } from "./state.ts";

const exitAfter = (st: ReturnType<typeof emptyState>, seconds: number, code = 2): ChildExit => {
  st.child_started_at = new Date(1_000_000).toISOString();
  return { code, signal: null, exitClass: "failure", at: 1_000_000 + seconds * 1000, generation: 1 };
};

test("quick failures in a row are counted and reported from the second; a long run ends the streak", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-startup-"));
  const log = path.join(dir, "process.log");
  fs.writeFileSync(
    log,
    "===== autosentry: start x gen=1 pid=1 =====\nImportError: no module named torch\n===== autosentry: stop x exit=2 =====\n",
  );
  const st = emptyState();
  expect(noteFailedExit(st, exitAfter(st, 0.5), log)).toBeNull();
  const second = noteFailedExit(st, exitAfter(st, 1), log);
  expect(second).toMatchObject({
    count: 2,
    last_code: 2,
    last_seconds: 1,
    last_output: "ImportError: no module named torch",
  });
  expect(describeStartupFailures(second!)).toBe(
    `the child failed within ${STARTUP_SECONDS}s of starting on each of the last 2 launches (exit 2): it probably cannot start (a missing file, a bad argument, a broken environment); its last output: ImportError: no module named torch; its output is in ${log}`,
  );
  expect(noteFailedExit(st, exitAfter(st, STARTUP_SECONDS + 1), log)).toBeNull();
  expect(st.startup_failures.count).toBe(0);
  expect(lastLine(path.join(dir, "missing"))).toBeNull();
  // The child's words are redacted before they are kept (state.json, the log).
  fs.appendFileSync(log, "token hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\n");
  noteFailedExit(st, exitAfter(st, 1), log, (t) => t.replace(/hf_\w+/, "[REDACTED]"));
  expect(st.startup_failures.last_output).toBe("token [REDACTED]");
  fs.rmSync(dir, { recursive: true, force: true });
});
