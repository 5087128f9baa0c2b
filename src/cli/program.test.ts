import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Command as CommandX } from "@commander-js/extra-typings";
import type { Command } from "commander";
import { runCli, scratchDirs } from "../../tests/support/cli.ts";
import { allDescriptions, capitalise, startsWithLiteral } from "./help-style.ts";
import { buildProgram, commandToRun, TREE, VERSION } from "./program.ts";

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

describe("the partial tree for running one command (issue 13)", () => {
  type Cmd = Command;
  const names = (p: Cmd) => p.commands.map((c) => c.name());
  const walk = (c: Cmd, at = ""): Array<[string, string]> => [
    [at, c.helpInformation()],
    ...c.commands.flatMap((s) => walk(s, `${at} ${s.name()}`)),
  ];

  test("each tree module registers exactly the names it is listed under", () => {
    for (const [listed, register] of TREE) {
      const p = new CommandX();
      register(p);
      expect([listed, names(p as unknown as Cmd)]).toEqual([listed, [...listed]]);
    }
  });

  test("the whole tree is the listed modules plus completion", () => {
    const all = names(buildProgram() as unknown as Cmd);
    expect(all).toEqual([...TREE.flatMap(([n]) => n), "completion", "complete"]);
  });

  test("every command reads the same in the partial tree as in the whole one (help text of each subcommand)", () => {
    const whole = buildProgram() as unknown as Cmd;
    for (const [listed] of TREE) {
      for (const name of listed) {
        const partial = buildProgram(name) as unknown as Cmd;
        expect(names(partial)).toEqual([...listed]);
        const a = whole.commands.find((c) => c.name() === name)!;
        const b = partial.commands.find((c) => c.name() === name)!;
        expect(walk(b, name)).toEqual(walk(a, name));
      }
    }
  });

  test("the whole tree is built for help, completion, no command and unknown names", () => {
    expect(commandToRun(["status"])).toBe("status");
    expect(commandToRun(["status", "--json", "-c", "x.yaml"])).toBe("status");
    expect(commandToRun(["pause", "-m", "why"])).toBe("pause");
    expect(commandToRun(["incidents", "list"])).toBe("incidents");
    for (const args of [
      [],
      ["--help"],
      ["-V"],
      ["status", "--help"],
      ["incidents", "list", "-h"],
      ["help", "status"],
      ["completion", "bash"],
      ["complete", "--", "st"],
      ["statsu"],
    ]) {
      expect([args, commandToRun(args)]).toEqual([args, null]);
    }
  });
});
