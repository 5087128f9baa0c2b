import { describe, expect, test } from "bun:test";
import { parseCommand } from "./commands.ts";

describe("parseCommand", () => {
  test("verbs, arguments, case and a leading mention", () => {
    expect(parseCommand("status")).toEqual({ ok: true, command: { verb: "status", text: null, args: [] } });
    expect(parseCommand("  <@U0BOT> PAUSE  disk is full ")).toEqual({
      ok: true,
      command: { verb: "pause", text: "disk is full", args: [] },
    });
    expect(parseCommand("resume")).toEqual({ ok: true, command: { verb: "resume", text: null, args: [] } });
    expect(parseCommand("abort")).toEqual({ ok: true, command: { verb: "abort", text: null, args: [] } });
    expect(parseCommand("approve oom")).toEqual({
      ok: true,
      command: { verb: "approve", text: "oom", args: [] },
    });
    expect(parseCommand("set max_restarts 07")).toEqual({
      ok: true,
      command: { verb: "set", text: null, args: ["max_restarts", "7"] },
    });
    expect(parseCommand("set env BATCH_SIZE=16")).toEqual({
      ok: true,
      command: { verb: "set", text: null, args: ["env", "BATCH_SIZE=16"] },
    });
    expect(parseCommand("note: lr looks too high")).toEqual({
      ok: true,
      command: { verb: "note", text: "lr looks too high", args: [] },
    });
    expect(parseCommand("Comment: same as note")).toEqual({
      ok: true,
      command: { verb: "note", text: "same as note", args: [] },
    });
  });

  test("conversation is not a command; a known verb with bad arguments is an error", () => {
    expect(parseCommand("looks like it's running again, nice")).toBeNull();
    expect(parseCommand("status of the cluster?")).toBeNull();
    expect(parseCommand("ok")).toBeNull();
    expect(parseCommand("set lr 0.1")).toEqual({
      ok: false,
      error: "set: expected `set max_restarts N` or `set env KEY=VALUE` (got `set lr 0.1`)",
    });
    expect(parseCommand("set max_restarts many")?.ok).toBe(false);
    expect(parseCommand("note:")).toEqual({ ok: false, error: "note: needs some text" });
    expect(parseCommand("approve a b")?.ok).toBe(false);
  });
});
