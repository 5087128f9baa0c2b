import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isCompiled, selfCommand, selfImageCommand, sourceEntry } from "./self-command.ts";

test("from source, selfCommand is bun + main.ts", () => {
  expect(isCompiled()).toBe(false);
  const cmd = selfCommand();
  expect(cmd[0]).toBe(process.execPath);
  expect(cmd.at(-1)).toBe(sourceEntry());
  expect(fs.readFileSync(sourceEntry(), "utf8")).toContain('process.argv[2] === "__shim"');
});

test("selfCommand really re-invokes the program and ignores a .env in the cwd", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "selfcmd-"));
  try {
    fs.writeFileSync(path.join(dir, ".env"), "AUTOSENTRY_SELFCMD_LEAK=yes\n");
    // `__shim` with no arguments is a usage error printed by the shim itself: proof the entry point ran.
    const p = Bun.spawn([...selfCommand(), "__shim"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(code).toBe(2);
    expect(err).toContain("autosentry __shim");
    const env = Bun.spawn(
      [...selfCommand().slice(0, -1), "-e", "console.log(process.env.AUTOSENTRY_SELFCMD_LEAK ?? 'unset')"],
      {
        cwd: dir,
        stdout: "pipe",
      },
    );
    expect((await new Response(env.stdout).text()).trim()).toBe("unset");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("from source, selfImageCommand is selfCommand (there is no separate image to pin)", () => {
  expect(selfImageCommand()).toEqual(selfCommand());
});
