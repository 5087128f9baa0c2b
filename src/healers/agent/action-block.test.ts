import { describe, expect, test } from "bun:test";
import type { Action } from "../../core/types.ts";
import { formatActionBlock, parseActionBlock } from "./action-block.ts";

describe("parseActionBlock", () => {
  test("a plain restart", () => {
    expect(parseActionBlock("The loader crashed on a bad row; fixed it.\n\nACTION: restart\n")).toEqual({
      action: { kind: "restart", set: {}, command: [], notify: true },
      none: false,
      problems: [],
    });
  });

  test("the last ACTION line wins; SET lines before it (quoted examples) are ignored", () => {
    const reply = [
      "The template shows an example:",
      "    ACTION: restart_with_env",
      "    SET: BATCH_SIZE=4",
      "I lowered the learning rate in train.yaml instead.",
      "",
      "  ACTION: restart_with_env",
      "  SET: LR=0.0005",
      'SET: RUN_NAME="retry 2"',
    ].join("\n");
    expect(parseActionBlock(reply)).toEqual({
      action: {
        kind: "restart_with_env",
        set: { LR: "0.0005", RUN_NAME: "retry 2" },
        command: [],
        notify: true,
      },
      none: false,
      problems: [],
    });
  });

  test("restart_with_env without SET is invalid", () => {
    const r = parseActionBlock("SET: A=1\nACTION: restart_with_env\n");
    expect(r.action).toBeNull();
    expect(r.problems[0]).toContain("needs at least one SET");
  });

  test("custom_command with a JSON argv, or shell words, and an optional TIMEOUT", () => {
    expect(
      parseActionBlock('ACTION: custom_command\nCOMMAND: ["python", "fix data.py", "--n", "3"]\nTIMEOUT: 120')
        .action,
    ).toEqual({
      kind: "custom_command",
      set: {},
      command: ["python", "fix data.py", "--n", "3"],
      timeout_seconds: 120,
      notify: true,
    });
    expect(
      parseActionBlock("ACTION: custom_command\nCOMMAND: python 'fix data.py' --n 3\n").action?.command,
    ).toEqual(["python", "fix data.py", "--n", "3"]);
  });

  test("custom_command without COMMAND, with two, or with a broken JSON array is invalid", () => {
    expect(parseActionBlock("ACTION: custom_command\n").problems).toEqual([
      "custom_command needs a COMMAND line",
    ]);
    expect(parseActionBlock("ACTION: custom_command\nCOMMAND: a\nCOMMAND: b\n").problems[0]).toContain(
      "exactly one",
    );
    const bad = parseActionBlock('ACTION: custom_command\nCOMMAND: ["a", 1]\n');
    expect(bad.action).toBeNull();
    expect(bad.problems).toEqual(["COMMAND is not a JSON array of strings"]);
  });

  test("a COMMAND line before the final ACTION does not make a custom command", () => {
    const r = parseActionBlock("COMMAND: rm -rf /\nACTION: custom_command\n");
    expect(r.action).toBeNull();
  });

  test("unknown kind → no action, with a problem (never a silent restart)", () => {
    const r = parseActionBlock("ACTION: reboot_the_cluster\n");
    expect(r.action).toBeNull();
    expect(r.none).toBe(false);
    expect(r.problems[0]).toContain("unknown action kind 'reboot_the_cluster'");
  });

  test("no ACTION line → no action, with a problem", () => {
    expect(parseActionBlock("I think you should restart it.")).toEqual({
      action: null,
      none: false,
      problems: ["no ACTION line in the reply"],
    });
  });

  test("ACTION: none is an explicit 'no action'", () => {
    expect(parseActionBlock("Nothing to do.\nACTION: none\n")).toEqual({
      action: null,
      none: true,
      problems: [],
    });
  });

  test("markdown decoration around the block is tolerated", () => {
    expect(parseActionBlock("**ACTION:** `abort`\n").action?.kind).toBe("abort");
    expect(parseActionBlock("> ACTION: pause\n").action?.kind).toBe("pause");
    expect(parseActionBlock("ACTION: Restart-With-Env\n- SET: X=1\n").action?.set).toEqual({ X: "1" });
  });

  test("an ACTION mentioned inside a sentence is not an ACTION line", () => {
    expect(parseActionBlock("I would normally say ACTION: restart here.").problems).toEqual([
      "no ACTION line in the reply",
    ]);
  });

  test("extras that do not belong to the kind are ignored with a problem", () => {
    const r = parseActionBlock("ACTION: restart\nSET: A=1\nCOMMAND: x\nTIMEOUT: 3\n");
    expect(r.action?.kind).toBe("restart");
    expect(r.action?.set).toEqual({});
    expect(r.problems).toEqual([
      "SET lines are ignored for restart",
      "COMMAND lines are ignored for restart",
      "TIMEOUT is ignored for restart",
    ]);
  });

  test("bad SET lines are reported", () => {
    const r = parseActionBlock("ACTION: restart_with_env\nSET: 1BAD=x\nSET: GOOD=half\n");
    expect(r.action?.set).toEqual({ GOOD: "half" });
    expect(r.problems).toEqual(["SET line is not NAME=VALUE: 1BAD=x"]);
  });
});

describe("formatActionBlock", () => {
  const cases: (Action | null)[] = [
    null,
    { kind: "restart", set: {}, command: [], notify: true },
    { kind: "abort", set: {}, command: [], notify: true },
    { kind: "pause", set: {}, command: [], notify: true },
    { kind: "restart_with_env", set: { BATCH_SIZE: "half", NOTE: "a b=c" }, command: [], notify: true },
    {
      kind: "custom_command",
      set: {},
      command: ["bash", "-c", 'echo "hi there"; exit 3'],
      timeout_seconds: 30,
      notify: true,
    },
  ];
  test("round-trips through the parser", () => {
    for (const a of cases) {
      const parsed = parseActionBlock(`Diagnosis text.\n\n${formatActionBlock(a)}`);
      expect(parsed.problems).toEqual([]);
      expect(parsed.action).toEqual(a);
      expect(parsed.none).toBe(a === null);
    }
  });
  test("exact text", () => {
    expect(formatActionBlock(cases[4]!)).toBe(
      "ACTION: restart_with_env\nSET: BATCH_SIZE=half\nSET: NOTE=a b=c\n",
    );
    expect(formatActionBlock(cases[5]!)).toBe(
      'ACTION: custom_command\nCOMMAND: ["bash","-c","echo \\"hi there\\"; exit 3"]\nTIMEOUT: 30\n',
    );
  });
});
