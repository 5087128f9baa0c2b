import { describe, expect, test } from "bun:test";
import { buildProgram, unknownCommandInHelp } from "./program.ts";

describe("an unknown command asked for help", () => {
  const program = buildProgram();
  test("is reported, at the top level and below", () => {
    expect(unknownCommandInHelp(program, ["statsu", "--help"])).toBe("statsu");
    expect(unknownCommandInHelp(program, ["help", "statsu"])).toBe("statsu");
    expect(unknownCommandInHelp(program, ["incidents", "lsit", "-h"])).toBe("incidents lsit");
  });
  test("known commands, their arguments and plain typos are left to commander", () => {
    expect(unknownCommandInHelp(program, ["status", "--help"])).toBeNull();
    expect(unknownCommandInHelp(program, ["help", "status"])).toBeNull();
    expect(unknownCommandInHelp(program, ["incidents", "show", "some-id", "--help"])).toBeNull();
    expect(unknownCommandInHelp(program, ["--help"])).toBeNull();
    expect(unknownCommandInHelp(program, ["statsu"])).toBeNull();
  });
});
