import { afterAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MemoryLogger } from "../util/logger.ts";
import { emptyState, type PrintedRecord, readState, StateStore, stateText } from "./state.ts";

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

test("stateText prints the state as JSON.stringify does, byte for byte, while records change (issue 13)", () => {
  const printed = new WeakMap<object, PrintedRecord>();
  const s = emptyState();
  const whole = () => `${JSON.stringify(s, null, 2)}\n`;
  expect(stateText(s, printed)).toBe(whole());
  const record = (i: number) => ({
    time: `2026-01-01T00:00:0${i}.000Z`,
    reason: `exit ${i} "quoted"\nnext line`,
    rule: null,
    new_pid: null as number | null,
    incident_id: `inc-${i}`,
    delay_seconds: i === 2 ? undefined : 0,
  });
  s.restart_history.push(record(1), record(2));
  expect(stateText(s, printed)).toBe(whole());
  s.restart_history[1]!.new_pid = 4242;
  s.restart_history.push(record(3));
  expect(stateText(s, printed)).toBe(whole());
  expect(JSON.parse(stateText(s, printed)).restart_history[1].new_pid).toBe(4242);
  // A record holding an object is printed afresh each time (a change inside it is not seen by identity).
  const nested = { ...record(4), extra: { n: 1 } } as (typeof s.restart_history)[number];
  s.restart_history.push(nested);
  expect(stateText(s, printed)).toBe(whole());
  (nested as unknown as { extra: { n: number } }).extra.n = 2;
  expect(stateText(s, printed)).toBe(whole());
  s.restart_history.splice(0, 2);
  expect(stateText(s, printed)).toBe(whole());
});

test("stateText: a record printed before it was completed and frozen is printed with its final values (issue 13)", () => {
  const printed = new WeakMap<object, PrintedRecord>();
  const s = emptyState();
  const whole = () => `${JSON.stringify(s, null, 2)}\n`;
  const record = (i: number) => ({
    time: `2026-01-01T00:00:0${i}.000Z`,
    reason: `restart policy after exit ${i}`,
    rule: null,
    new_pid: null as number | null,
    incident_id: `inc-${i}`,
    delay_seconds: 0,
  });
  // As launching.ts does: pushed at the restart (printed by a coalesced write), completed and
  // frozen at the launch, printed again at every later write.
  s.restart_history.push(record(1));
  expect(stateText(s, printed)).toBe(whole());
  s.restart_history[0]!.new_pid = 4242;
  Object.freeze(s.restart_history[0]);
  expect(stateText(s, printed)).toBe(whole());
  expect(JSON.parse(stateText(s, printed)).restart_history[0].new_pid).toBe(4242);
  // Frozen before it was first printed, and one still open beside it.
  const done = Object.freeze({ ...record(2), new_pid: 7 });
  s.restart_history.push(done, record(3));
  for (let i = 0; i < 3; i++) expect(stateText(s, printed)).toBe(whole());
  s.restart_history[2]!.new_pid = 8;
  expect(stateText(s, printed)).toBe(whole());
  expect(printed.get(s.restart_history[0]!)?.frozen).toBe(true);
  expect(printed.get(done)?.frozen).toBe(true);
  expect(printed.get(s.restart_history[2]!)?.frozen).toBe(false);
});
