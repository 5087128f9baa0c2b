import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Detection } from "../core/types.ts";
import { FsIncidentStore } from "../incidents/store.ts";
import { exitDetection, newIncident, T0, tracebackDetection } from "../incidents/test-fixtures.ts";
import { Journal } from "../journal/journal.ts";
import { MemoryLogger } from "../util/logger.ts";
import { parseFront, sectionLines } from "./note.ts";
import { VaultWriter } from "./writer.ts";

let tmp: string;
let vault: string;
let incidentsDir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-vault-"));
  vault = path.join(tmp, ".autosentry", "vault");
  incidentsDir = path.join(tmp, ".autosentry", "incidents");
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const RUN = "0123456789abcdef0123456789abcdef";
const SECRET = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789";

function setup(threshold = 3) {
  let now = T0;
  const logger = new MemoryLogger();
  const journal = new Journal(path.join(tmp, "events.jsonl"), { runId: RUN, now: () => now });
  const writer = new VaultWriter({
    root: vault,
    incidentsDir,
    patternThreshold: threshold,
    redact: (t) => t.replaceAll(SECRET, "[REDACTED]"),
    logger,
    process: { kind: "local", cwd: "/work/proj" },
  });
  journal.listen((r) => writer.onRecord(r));
  const store = new FsIncidentStore({ dir: incidentsDir, logger, now: () => now });
  const tick = (s = 1) => {
    now += s * 1000;
  };
  /** Open an incident the way the monitor does: folder first, then the journal line. */
  async function incident(det: Detection) {
    const ref = await store.create(newIncident({ detection: det, related: [det] }));
    journal.write("incident", {
      incident_id: ref.id,
      detector: det.detector,
      kind: det.kind,
      message: det.message,
    });
    return ref;
  }
  return { journal, writer, store, logger, tick, incident };
}

const read = (rel: string) => fs.readFileSync(path.join(vault, rel), "utf8");

/** Every note under the vault, relative, without `.md`. */
function notes(): string[] {
  return (fs.readdirSync(vault, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Every [[target]] and every relative Markdown link of every note resolves to a file. */
function brokenLinks(): string[] {
  const broken: string[] = [];
  for (const n of notes()) {
    const text = read(`${n}.md`);
    for (const m of text.matchAll(/\[\[([^\]|]+)(?:\|[^\]]*)?\]\]/g)) {
      if (!fs.existsSync(path.join(vault, `${m[1]}.md`))) broken.push(`${n} → [[${m[1]}]]`);
    }
    for (const m of text.matchAll(/\]\(([^)]+)\)/g)) {
      const target = path.resolve(path.dirname(path.join(vault, n)), decodeURIComponent(m[1]!));
      if (!fs.existsSync(target)) broken.push(`${n} → (${m[1]})`);
    }
  }
  return broken;
}

describe("VaultWriter", () => {
  test("a run with a failure, a fix that holds, the same failure twice more and a pattern", async () => {
    const { journal, store, tick, incident, writer } = setup(3);
    journal.write("monitor_started", {
      continuing: false,
      command: ["python", "train.py", `--key=${SECRET}`],
    });
    journal.write("child_started", { generation: 1, pid: 101, why: "initial start" });
    tick();
    const det = tracebackDetection({ generation: 1 });
    const a = await incident(det);
    journal.write("recovery_started", {
      incident_id: a.id,
      action: "restart_with_env",
      source: "rule",
      rule: "halve",
    });
    await store.recordOutcome(a.id, {
      outcome: {
        source: "rule",
        ruleName: "halve",
        detection: det,
        action: { kind: "restart_with_env", set: { BATCH_SIZE: "half" }, command: [], notify: true },
      },
      resolvedEnv: { BATCH_SIZE: "32" },
    });
    journal.write("recovery_applied", { incident_id: a.id, action: "restart_with_env" });
    journal.write("child_exited", {
      generation: 1,
      exit_code: null,
      signal: "SIGTERM",
      exit_class: "stopped",
    });
    journal.write("child_started", { generation: 2, pid: 102, why: "healer fix for incident" });
    tick(60);
    journal.write("recovery_verified", {
      incident_id: a.id,
      detector: "traceback",
      source: "rule",
      why: "no recurrence",
    });

    tick();
    const b = await incident(tracebackDetection({ generation: 2 }));
    journal.write("child_exited", { generation: 2, exit_code: 1, signal: null, exit_class: "failure" });
    journal.write("child_started", { generation: 3, pid: 103, why: "restart policy" });
    tick();
    const other = await incident({ ...exitDetection(), generation: 3 });
    tick();
    const c = await incident(tracebackDetection({ generation: 3 }));
    journal.write("monitor_stopped", {
      exit_code: 1,
      reason: "Max restarts reached (2/2)",
      phase: "gave_up",
      restarts_total: 2,
    });

    expect(writer.errors).toBe(0);
    const runNote = `runs/${RUN}`;
    const pattern = notes().filter((n) => n.startsWith("patterns/"));
    expect(pattern).toHaveLength(1);
    expect(pattern[0]).toMatch(/^patterns\/pattern-traceback-valueerror-[0-9a-f]{6}$/);
    expect(notes()).toEqual(
      [
        "index",
        runNote,
        `${runNote}/child-1`,
        `${runNote}/child-2`,
        `${runNote}/child-3`,
        `incidents/${a.id}`,
        `incidents/${a.id}/attempt-1`,
        `incidents/${b.id}`,
        `incidents/${other.id}`,
        `incidents/${c.id}`,
        "detectors/traceback",
        "detectors/exit_code",
        pattern[0]!,
      ].sort(),
    );
    expect(brokenLinks()).toEqual([]);

    const run = read(`${runNote}.md`);
    expect(run).not.toContain(SECRET);
    expect(parseFront(run)).toMatchObject({
      kind: "run",
      status: "gave_up",
      stop_reason: "Max restarts reached (2/2)",
    });
    expect(sectionLines(run, "Child runs")).toHaveLength(3);
    expect(sectionLines(run, "Incidents")).toHaveLength(4);
    expect(sectionLines(read(`${runNote}/child-1.md`), "Exit")).toEqual([
      `${new Date(T0 + 1000).toISOString()}: stopped, signal SIGTERM`,
    ]);
    expect(sectionLines(read(`${runNote}/child-1.md`), "Incidents during this child run")).toEqual([
      `- [[incidents/${a.id}|${a.id}]] — ValueError: bad batch \`\`7\`\``,
    ]);

    const attempt = read(`incidents/${a.id}/attempt-1.md`);
    expect(parseFront(attempt)).toMatchObject({
      kind: "attempt",
      status: "verified",
      rule: "halve",
      source: "rule",
      env_overrides: ["BATCH_SIZE=32"],
    });
    expect(sectionLines(attempt, "Applied")).toContain("- Env overrides: `BATCH_SIZE=32`");
    expect(sectionLines(attempt, "Outcome")?.[0]).toMatch(/: verified — no recurrence$/);

    const incC = read(`incidents/${c.id}.md`);
    expect(parseFront(incC)).toMatchObject({ kind: "incident", detector: "traceback", generation: 3 });
    expect(incC).toContain(`**Report:** [report.md](../../incidents/${c.id}/report.md)`);
    expect(sectionLines(incC, "Same failure")).toEqual([
      `- [[incidents/${a.id}|${a.id}]] — ${new Date(T0 + 1000).toISOString()}`,
      `- [[incidents/${b.id}|${b.id}]] — ${new Date(T0 + 62_000).toISOString()}`,
      `- Pattern: [[${pattern[0]}|pattern note]]`,
    ]);
    const pat = read(`${pattern[0]}.md`);
    expect(parseFront(pat)).toMatchObject({ kind: "pattern", incident_count: 3, detector: "traceback" });
    expect(sectionLines(pat, "Linked incidents")).toHaveLength(3);
    expect(sectionLines(read("detectors/traceback.md"), "Patterns")).toHaveLength(1);
    expect(sectionLines(read("index.md"), "Runs")).toHaveLength(1);
    expect(sectionLines(read("index.md"), "Detectors")).toEqual([
      "- [[detectors/traceback|traceback]]",
      "- [[detectors/exit_code|exit_code]]",
    ]);
  });

  test("a later incident of the pattern extends the note and bumps the count; a new monitor is noted", async () => {
    const { journal, incident } = setup(2);
    journal.write("monitor_started", { continuing: false, command: ["x"] });
    journal.write("child_started", { generation: 1, pid: 1, why: "initial start" });
    await incident(tracebackDetection({ generation: 1 }));
    await incident(tracebackDetection({ generation: 1 }));
    journal.write("monitor_started", { continuing: true, command: ["x"] });
    journal.write("child_adopted", { generation: 1, pid: 1 });
    const third = await incident(tracebackDetection({ generation: 1 }));
    const pattern = notes().find((n) => n.startsWith("patterns/"))!;
    const pat = read(`${pattern}.md`);
    expect(parseFront(pat).incident_count).toBe(3);
    expect(sectionLines(pat, "Linked incidents")?.[2]).toContain(third.id);
    expect(sectionLines(read(`runs/${RUN}.md`), "Monitor")?.[0]).toMatch(/a new monitor took over the run$/);
    expect(sectionLines(read(`runs/${RUN}.md`), "Child runs")).toHaveLength(1);
    expect(brokenLinks()).toEqual([]);
  });

  test("incidents recorded before the vault are counted but not linked", async () => {
    const { store, journal, incident } = setup(2);
    await store.create(newIncident()); // no journal line: the vault never saw it
    journal.write("monitor_started", { continuing: false, command: ["x"] });
    await incident(tracebackDetection());
    const pattern = notes().find((n) => n.startsWith("patterns/"))!;
    expect(sectionLines(read(`${pattern}.md`), "Linked incidents")?.[0]).toBe(
      "- 1 earlier incident(s) recorded before the vault had notes for them",
    );
    expect(brokenLinks()).toEqual([]);
  });

  test("a pattern note made after a long history lists the newest 50 and counts the rest", async () => {
    const { store, journal, tick, incident } = setup(2);
    for (let i = 0; i < 60; i++) {
      tick();
      await store.create(newIncident()); // before the vault: no notes for these
    }
    journal.write("monitor_started", { continuing: false, command: ["x"] });
    tick();
    const last = await incident(tracebackDetection());
    const pattern = notes().find((n) => n.startsWith("patterns/"))!;
    const pat = read(`${pattern}.md`);
    expect(parseFront(pat).incident_count).toBe(61);
    expect(sectionLines(pat, "Linked incidents")).toEqual([
      "- 11 earlier incident(s) not listed here (the journal and incidents/index.jsonl keep every one)",
      "- 49 earlier incident(s) recorded before the vault had notes for them",
      expect.stringContaining(`[[incidents/${last.id}|`),
    ]);
    expect(brokenLinks()).toEqual([]);
  });

  test("failures are logged and counted, never thrown; the journal keeps going", async () => {
    const { journal, writer, logger } = setup();
    fs.mkdirSync(path.dirname(vault), { recursive: true });
    fs.writeFileSync(vault, "a file where the vault directory should be");
    journal.write("monitor_started", { continuing: false, command: ["x"] });
    journal.write("child_started", { generation: 1, pid: 1, why: "initial start" });
    expect(writer.errors).toBe(2);
    expect(
      logger.lines.filter((l) => l.startsWith("[WARN] vault: cannot record monitor_started: ")),
    ).toHaveLength(1);
    expect(fs.readFileSync(path.join(tmp, "events.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);
  });
  test("an incident note links the newest 10 of the same failure; the pattern note all of them (issue 16)", async () => {
    const { journal, tick, incident } = setup(3);
    journal.write("monitor_started", { continuing: false, command: ["sh", "job.sh"] });
    const ids: string[] = [];
    for (let g = 1; g <= 15; g++) {
      journal.write("child_started", { generation: g, pid: 100 + g, why: "restart" });
      tick();
      ids.push((await incident({ ...exitDetection(), generation: g })).id);
    }
    const last = read(`incidents/${ids[14]}.md`);
    const same = sectionLines(last, "Same failure") ?? [];
    expect(same[0]).toBe(
      "- 4 earlier incident(s) not listed here (see the pattern note and incidents/index.jsonl)",
    );
    expect(same.slice(1, 11)).toEqual(
      ids.slice(4, 14).map((id) => expect.stringContaining(`[[incidents/${id}|`)),
    );
    expect(same[11]).toMatch(/^- Pattern: \[\[patterns\//);
    expect(same).toHaveLength(12);
    const pattern = notes().find((n) => n.startsWith("patterns/"))!;
    const pat = read(`${pattern}.md`);
    expect(parseFront(pat)).toMatchObject({ incident_count: 15 });
    expect(sectionLines(pat, "Linked incidents")).toHaveLength(15);
    expect(brokenLinks()).toEqual([]);
  });

  test("lists that grow with the run keep the newest 50 and count the older ones", async () => {
    const { journal, tick, incident } = setup(3);
    journal.write("monitor_started", { continuing: false, command: ["sh", "job.sh"] });
    const ids: string[] = [];
    for (let g = 1; g <= 60; g++) {
      journal.write("child_started", { generation: g, pid: 100 + g, why: "restart" });
      tick();
      ids.push((await incident({ ...exitDetection(), generation: g })).id);
    }
    const fold = (n: number) =>
      `- ${n} earlier incident(s) not listed here (the journal and incidents/index.jsonl keep every one)`;
    for (const [note, heading] of [
      [`runs/${RUN}.md`, "Incidents"],
      ["detectors/exit_code.md", "Incidents"],
      [`${notes().find((n) => n.startsWith("patterns/"))}.md`, "Linked incidents"],
    ] as const) {
      const lines = sectionLines(read(note), heading) ?? [];
      expect(lines[0]).toBe(fold(10));
      expect(lines).toHaveLength(51);
      expect(lines[50]).toContain(`[[incidents/${ids[59]}|`);
      expect(lines[1]).toContain(`[[incidents/${ids[10]}|`);
    }
    const children = sectionLines(read(`runs/${RUN}.md`), "Child runs") ?? [];
    expect(children[0]).toMatch(/^- 10 earlier child run\(s\) not listed here/);
    expect(children).toHaveLength(51);
    expect(brokenLinks()).toEqual([]);
  });
});
