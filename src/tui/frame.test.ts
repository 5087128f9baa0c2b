import { describe, expect, test } from "bun:test";
import { fit, renderFrame, visibleLength, type WatchData, type WatchProject } from "./frame.ts";

const project = (over: Partial<WatchProject> = {}): WatchProject => ({
  name: "train",
  phase: "running",
  monitor: "pid 10",
  child: "pid 11 generation 3, up 2h 3m",
  restarts: "2/50 (5 in all)",
  lastExit: "1 (failure)",
  nextRestart: null,
  stopReason: null,
  verifying: ["2026-12-01T10-00-00Z-oom closes in 4m 0s"],
  heartbeat: "1s ago",
  incidents: Array.from({ length: 15 }, (_, i) => ({
    id: `2026-12-01T10-00-${String(i).padStart(2, "0")}Z-error-traceback`,
    time: `2026-12-01T10:00:${String(i).padStart(2, "0")}.000Z`,
    detector: "traceback",
    action: "restart",
    message: `RuntimeError: step ${i} \x1b[31mfailed\x1b[0m ${"x".repeat(200)}`,
  })),
  incidentCount: 15,
  detectors: [
    { name: "traceback", last: "2026-12-01T10:00:14.000Z" },
    { name: "oom", last: null },
  ],
  logTail: Array.from(
    { length: 60 },
    (_, i) => `[2026-12-01 10:00:00 UTC] [${i % 2 ? "ERROR" : "INFO"}] line ${i}`,
  ),
  ...over,
});

const data = (p: WatchProject[] = [project()], root: string | null = null): WatchData => ({
  projects: p,
  root,
  now: new Date("2026-12-01T10:01:00Z"),
});

describe("renderFrame", () => {
  test("80x24: exactly 24 lines, none wider than 80, every section present", () => {
    const lines = renderFrame(data(), { width: 80, height: 24, color: true });
    expect(lines).toHaveLength(24);
    expect(lines.every((l) => visibleLength(l) <= 80)).toBe(true);
    const text = lines.join("\n");
    for (const s of ["phase", "restarts", "verifying", "newest incidents", "detectors", "log tail", "q quit"])
      expect(text).toContain(s);
    expect(text).toContain("oom never");
  });

  test("a larger terminal shows more incidents and log lines, and the ids", () => {
    const small = renderFrame(data(), { width: 80, height: 24, color: false });
    const big = renderFrame(data(), { width: 160, height: 50, color: false });
    expect(big).toHaveLength(50);
    const count = (ls: string[], s: string) => ls.filter((l) => l.includes(s)).length;
    expect(count(big, "RuntimeError")).toBeGreaterThan(count(small, "RuntimeError"));
    expect(count(big, "] line ")).toBeGreaterThan(count(small, "] line "));
    expect(big.join("\n")).toContain("2026-12-01T10-00-14Z-error-traceback");
  });

  test("no colour means no escape codes, and a log's own escapes never reach the terminal", () => {
    const plain = renderFrame(data(), { width: 100, height: 30, color: false }).join("\n");
    expect(plain).not.toContain("\x1b");
    const colored = renderFrame(data(), { width: 100, height: 30, color: true }).join("\n");
    expect(colored).toContain("\x1b[31m");
    expect(colored).not.toContain("\x1b[31mfailed");
  });

  test("--root: one line per project", () => {
    const lines = renderFrame(
      data([project(), project({ name: "eval", phase: "gave_up", incidents: [] })], "/jobs"),
      {
        width: 80,
        height: 24,
        color: false,
      },
    );
    expect(lines[0]).toContain("2 projects under /jobs");
    expect(lines.find((l) => l.startsWith("eval"))).toContain("no incidents");
  });

  test("fit cuts by code points and marks the cut", () => {
    expect(fit("héllo wörld", 5)).toBe("héll…");
    expect(fit("ok", 5)).toBe("ok");
  });
});
