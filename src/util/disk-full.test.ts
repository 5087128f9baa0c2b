import { describe, expect, test } from "bun:test";
import { Journal } from "../journal/journal.ts";
import { DiskFullGate, gatedLogger, isNoSpace } from "./disk-full.ts";
import { FileLogger, MemoryLogger } from "./logger.ts";

function enospc(): NodeJS.ErrnoException {
  const e = new Error("ENOSPC: no space left on device, write") as NodeJS.ErrnoException;
  e.code = "ENOSPC";
  return e;
}

function gate() {
  const said: string[] = [];
  const notified: string[] = [];
  const g = new DiskFullGate({
    onFull: (m) => said.push(`FULL ${m}`),
    notify: (title, body) => notified.push(`${title}: ${body}`),
    onSpaceBack: (m) => said.push(`BACK ${m}`),
  });
  return { g, said, notified };
}

describe("DiskFullGate (issue 16, finding 9: said once)", () => {
  test("many failed writes by several writers: one log line and one notification", () => {
    const { g, said, notified } = gate();
    for (let i = 0; i < 50; i++) {
      expect(g.failed("state.json", enospc())).toBe(true);
      expect(g.failed("the journal (events.jsonl)", enospc())).toBe(true);
    }
    expect(g.failed("the vault", "vault: cannot record x: ENOSPC: no space left on device, write")).toBe(
      true,
    );
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("Disk full: cannot write state.json: ENOSPC");
    expect(notified).toHaveLength(1);
    expect(g.full).toBe(true);
  });

  test("space back, then full again: said again, with the counts in between", () => {
    const { g, said, notified } = gate();
    g.failed("state.json", enospc());
    g.failed("state.json", enospc());
    g.failed("an incident folder", enospc());
    // A writer that never failed in this episode proves nothing about the space the others need.
    g.ok("autosentry.log");
    expect(g.full).toBe(true);
    g.ok("state.json");
    expect(g.full).toBe(false);
    expect(said[1]).toBe(
      "BACK Space returned: state.json written again; 3 write(s) failed while the disk was full (state.json 2, an incident folder 1)",
    );
    g.ok("state.json");
    g.failed("the journal (events.jsonl)", enospc());
    expect(said.filter((l) => l.startsWith("FULL"))).toHaveLength(2);
    expect(notified).toHaveLength(2);
    expect(g.episodes).toBe(2);
  });

  test("other write errors are not the gate's: their writers keep saying them", () => {
    const { g, said } = gate();
    const eacces = Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
    expect(g.failed("state.json", eacces)).toBe(false);
    expect(said).toEqual([]);
    expect(isNoSpace(Object.assign(new Error("quota"), { code: "EDQUOT" }))).toBe(true);
    expect(isNoSpace("short write (25614 of 40247 bytes): no space left on device?")).toBe(true);
    expect(isNoSpace("EROFS: read-only file system")).toBe(false);
  });

  test("a gated logger passes everything but a full disk", () => {
    const { g, said } = gate();
    const mem = new MemoryLogger();
    const log = gatedLogger(mem, g, "the vault");
    log.warn("vault: cannot record child_exited: ENOSPC: no space left on device, write");
    log.warn("vault: cannot record child_started: ENOSPC: no space left on device, write");
    log.warn("vault: cannot record x: EACCES: permission denied");
    log.info("no space left on device (an INFO line is not a failed write)");
    expect(mem.lines).toEqual([
      "[WARN] vault: cannot record x: EACCES: permission denied",
      "[INFO] no space left on device (an INFO line is not a failed write)",
    ]);
    expect(said).toHaveLength(1);
  });
});

describe("writers on a real full device (/dev/full answers every write with ENOSPC)", () => {
  test("autosentry.log and the journal: one report between them, however many writes fail", () => {
    const { g, said, notified } = gate();
    const logger = new FileLogger("/dev/full", { echo: false, gate: g });
    for (let i = 0; i < 20; i++) logger.error(`line ${i}`);
    const journal = new Journal("/dev/full", {
      runId: "r",
      gate: g,
      onError: (m) => said.push(`JOURNAL ${m}`),
    });
    for (let i = 0; i < 20; i++) journal.write("monitor_started", {});
    expect(journal.errors).toBe(20);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("Disk full: cannot write autosentry.log");
    expect(notified).toHaveLength(1);
    expect(logger.writeFailure).toBe("ENOSPC");
  });

  test("without a gate the logger still says its own failure", () => {
    const logger = new FileLogger("/dev/full", { echo: false });
    logger.error("x");
    expect(logger.writeFailure).toBe("ENOSPC");
  });
});
