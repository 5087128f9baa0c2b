import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MemoryLogger } from "../util/logger.ts";
import { emptyState, readState, StateStore } from "./state.ts";

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

test("recordNow writes state.json at once through a temporary file created ahead; none is left after dispose (issue 13)", async () => {
  const sub = fs.mkdtempSync(path.join(dir, "spare-"));
  const file = path.join(sub, "state.json");
  const store = new StateStore(file, emptyState(), new MemoryLogger(), 60_000);
  const temps = () => fs.readdirSync(sub).filter((n) => n.includes(".tmp-"));
  await store.recordNow();
  expect(readState(file)?.restarts).toBe(0);
  for (let i = 0; i < 50 && temps().length === 0; i++) await Bun.sleep(5);
  await Bun.sleep(20); // created, then closed: ready
  const [spare] = temps();
  expect(spare).toBeDefined();
  const ino = fs.statSync(path.join(sub, spare!)).ino;
  store.state.restarts = 7;
  await store.recordNow();
  // Written through the spare, synchronously: no coalescing delay.
  expect(readState(file)?.restarts).toBe(7);
  expect(fs.statSync(file).ino).toBe(ino);
  for (let i = 0; i < 50 && temps().length === 0; i++) await Bun.sleep(5);
  store.dispose();
  await store.flush(true);
  expect(temps()).toEqual([]);
});
