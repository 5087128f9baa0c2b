import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Command } from "commander";
import { runCli, scratchDirs } from "../../tests/support/cli.ts";
import { allDescriptions, capitalise, startsWithLiteral } from "./help-style.ts";
import { buildProgram, VERSION } from "./program.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-program-");

describe("version", () => {
  test("--version, -V, -v and `version` all print the version", () => {
    const dir = tempDir();
    for (const args of [["--version"], ["-V"], ["-v"], ["version"]]) {
      expect(runCli(dir, args)).toEqual({ code: 0, out: `${VERSION}\n`, err: "" });
    }
  });
});

describe("help style (issue 14 item 21)", () => {
  test("every command, option and argument description starts with a capital letter", () => {
    const all = allDescriptions(buildProgram() as unknown as Command);
    expect(all.length).toBeGreaterThan(50);
    const bad = all.filter((d) => d.text !== "" && !/^[A-Z`.]/.test(d.text) && !startsWithLiteral(d.text));
    expect(bad).toEqual([]);
  });

  test("a literal at the start keeps its case", () => {
    expect(capitalise("restart_with_env: a variable")).toBe("restart_with_env: a variable");
    expect(capitalise("restart | pause | abort")).toBe("restart | pause | abort");
    expect(capitalise("dispatch.mode: session only")).toBe("dispatch.mode: session only");
    expect(capitalise("print the version")).toBe("Print the version");
    expect(capitalise("pipelines: start here")).toBe("Pipelines: start here");
  });

  test("the help option and help command read the same way", () => {
    const r = runCli(tempDir(), ["hooks", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("-h, --help");
    expect(r.out).toContain("Show help for this command");
    expect(r.out).toContain("Show help for a command");
  });
});
