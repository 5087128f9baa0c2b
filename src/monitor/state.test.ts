import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { emptyState, readState } from "./state.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-state-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a state.json with wrong types is refused on read, naming each field (issue 16, finding 11)", () => {
  const file = path.join(dir, "state.json");
  fs.writeFileSync(file, JSON.stringify({ ...emptyState(), phase: 42, restarts: "3", child_running: "yes" }));
  expect(() => readState(file)).toThrow(
    /phase is 42 \(expected one of starting, .*\); child_running is "yes" \(expected true or false\); restarts is "3" \(expected a number\)/,
  );
});

test("a well-typed state.json, and one with missing fields (older writers), load", () => {
  const file = path.join(dir, "ok.json");
  fs.writeFileSync(file, JSON.stringify({ ...emptyState(), phase: "running", run_id: "r" }));
  expect(readState(file)?.phase).toBe("running");
  fs.writeFileSync(file, JSON.stringify({ phase: "completed", pid: 12, child_running: false }));
  expect(readState(file)?.phase).toBe("completed");
});
