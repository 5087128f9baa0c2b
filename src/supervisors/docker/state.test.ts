import { describe, expect, test } from "bun:test";
import {
  classifyState,
  isNoSuchContainer,
  isRunning,
  LogPosition,
  parseState,
  timestampKey,
} from "./state.ts";

// `docker inspect -f '{{json .State}}'` through the Docker CLI 28 against podman 4.3.
const EXITED_3 =
  '{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":3,"Error":"","StartedAt":"2026-11-22T02:54:18.124509368Z","FinishedAt":"2026-11-22T02:54:19.025258576Z","Health":{"Status":"","FailingStreak":0,"Log":null}}';

describe("container state", () => {
  test("inspect output parses; anything else is null", () => {
    const s = parseState(`${EXITED_3}\n`)!;
    expect(s.Status).toBe("exited");
    expect(s.ExitCode).toBe(3);
    expect(isRunning(s)).toBe(false);
    expect(parseState("[]")).toBeNull();
    expect(parseState("Error: No such object: x")).toBeNull();
  });

  test("exit classes: success only for a clean exited container", () => {
    const s = (over: object) => ({ ...parseState(EXITED_3)!, ...over });
    expect(classifyState(s({}), false)).toMatchObject({ exitClass: "failure", code: 3, signal: null });
    expect(classifyState(s({ ExitCode: 0 }), false)).toMatchObject({ exitClass: "success", code: 0 });
    expect(classifyState(s({ ExitCode: 0, Status: "stopped" }), false).exitClass).toBe("success");
    expect(classifyState(s({ ExitCode: 0, Status: "dead", Dead: true }), false)).toMatchObject({
      exitClass: "failure",
      code: null,
    });
    expect(classifyState(s({ ExitCode: 0, Error: "exec format error" }), false).exitClass).toBe("failure");
    expect(classifyState(s({ ExitCode: 137 }), false)).toMatchObject({
      exitClass: "signal",
      code: 137,
      signal: "SIGKILL",
    });
    expect(classifyState(s({ ExitCode: 137, OOMKilled: true }), false).exitClass).toBe("oom");
    expect(classifyState(s({ ExitCode: 143 }), true).exitClass).toBe("stopped");
  });

  test("running, restarting, paused and stopping count as running", () => {
    const s = parseState(EXITED_3)!;
    expect(isRunning({ ...s, Running: true })).toBe(true);
    expect(isRunning({ ...s, Restarting: true })).toBe(true);
    expect(isRunning({ ...s, Paused: true })).toBe(true);
    expect(isRunning({ ...s, Status: "stopping" })).toBe(true);
  });

  test("a missing container, docker and podman wording", () => {
    expect(isNoSuchContainer("Error: No such object: x")).toBe(true);
    expect(isNoSuchContainer("Error: no such container x")).toBe(true);
    expect(isNoSuchContainer("Cannot connect to the Docker daemon")).toBe(false);
  });
});

describe("log cursor", () => {
  test("timestamps of any precision sort by time", () => {
    const a = timestampKey("2026-11-22T02:54:18.1Z")!;
    const b = timestampKey("2026-11-22T02:54:18.123Z")!;
    const c = timestampKey("2026-11-22T02:54:19Z")!;
    expect(a < b && b < c).toBe(true);
    expect(timestampKey("2026-11-22T03:54:18+01:00")).toBe(timestampKey("2026-11-22T02:54:18Z"));
    expect(timestampKey("hello")).toBeNull();
  });

  test("following again from --since skips exactly what was read, per stream", () => {
    const first = new LogPosition(null);
    const seen: string[] = [];
    const feed = (p: LogPosition, raw: string, s: "stdout" | "stderr") => {
      const t = p.accept(raw, s);
      if (t !== null) seen.push(`${s}:${t}`);
    };
    feed(first, "2026-11-22T02:54:27Z out 1", "stdout");
    feed(first, "2026-11-22T02:54:28Z out 2", "stdout");
    feed(first, "2026-11-22T02:54:28Z err 1", "stderr");
    feed(first, "2026-11-22T02:54:28Z out 3", "stdout");
    expect(first.cursor).toEqual({
      stdout: { ts: "2026-11-22T02:54:28Z", n: 2 },
      stderr: { ts: "2026-11-22T02:54:28Z", n: 1 },
    });
    expect(first.since()).toBe("2026-11-22T02:54:28Z");

    // The daemon replays everything from that second (whole-second precision, like podman).
    const again = new LogPosition(first.cursor);
    seen.length = 0;
    for (const [raw, s] of [
      ["2026-11-22T02:54:28Z out 2", "stdout"],
      ["2026-11-22T02:54:28Z out 3", "stdout"],
      ["2026-11-22T02:54:28Z out 4", "stdout"],
      ["2026-11-22T02:54:28Z err 1", "stderr"],
      ["2026-11-22T02:54:29Z err 2", "stderr"],
      ["2026-11-22T02:54:29Z out 5", "stdout"],
    ] as const) {
      feed(again, raw, s);
    }
    expect(seen).toEqual(["stdout:out 4", "stderr:err 2", "stdout:out 5"]);
    expect(again.cursor.stdout).toEqual({ ts: "2026-11-22T02:54:29Z", n: 1 });
  });

  test("since is the earlier stream; a line without a timestamp passes whole", () => {
    const p = new LogPosition({
      stdout: { ts: "2026-11-22T02:54:29Z", n: 1 },
      stderr: { ts: "2026-11-22T02:54:20Z", n: 1 },
    });
    expect(p.since()).toBe("2026-11-22T02:54:20Z");
    expect(p.accept("no timestamp here", "stdout")).toBe("no timestamp here");
    expect(p.accept("2026-11-22T02:54:21Z", "stderr")).toBe("");
  });
});
