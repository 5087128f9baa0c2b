import { expect, test } from "bun:test";
import { Command } from "@commander-js/extra-typings";
import { buildProgram, COMMAND_MODULES } from "./program.ts";

const names = (p: { commands: readonly { name(): string }[] }) => p.commands.map((c) => c.name());

test("each lazily loaded command module registers exactly the names it is listed under", async () => {
  for (const [listed, load] of COMMAND_MODULES) {
    const program = new Command();
    (await load()).register(program as never);
    expect(names(program)).toEqual([...listed]);
  }
});

test("a command loads only its own module; no command, help or a typo loads them all", async () => {
  expect(names(await buildProgram(["bun", "autosentry", "status", "--json"]))).toEqual(["status"]);
  expect(names(await buildProgram(["bun", "autosentry", "pause"]))).toEqual([
    "approve",
    "pause",
    "resume",
    "abort",
  ]);
  const all = COMMAND_MODULES.flatMap(([listed]) => listed);
  for (const argv of [[], ["--help"], ["help", "status"], ["statsu"]]) {
    expect(names(await buildProgram(["bun", "autosentry", ...argv]))).toEqual(all);
  }
});
