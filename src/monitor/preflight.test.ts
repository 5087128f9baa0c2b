import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkLaunch, resolveExecutable } from "./preflight.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-preflight-"));
fs.mkdirSync(path.join(dir, "bin"));
fs.writeFileSync(path.join(dir, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
fs.writeFileSync(path.join(dir, "notexec"), "x", { mode: 0o644 });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = {
  command: ["sh", "-c", "true"],
  cwd: dir,
  env: { PATH: "/usr/bin:/bin" },
  requiredExecutables: [],
  requiredEnv: [],
  checkCommand: true,
};

describe("checkLaunch()", () => {
  test("passes for a resolvable command in an existing directory", () => {
    expect(checkLaunch(base)).toEqual([]);
  });
  test("reports every problem at once", () => {
    const errs = checkLaunch({
      ...base,
      cwd: path.join(dir, "missing"),
      command: ["no-such-binary-xyz"],
      requiredExecutables: ["./notexec"],
      requiredEnv: ["DATA_DIR", "EMPTY"],
      env: { PATH: "/usr/bin:/bin", EMPTY: "" },
    });
    expect(errs).toEqual([
      `Working directory does not exist: ${path.join(dir, "missing")}`,
      "Executable not found or not executable: 'no-such-binary-xyz' (check PATH)",
      "Executable not found or not executable: './notexec' (check PATH)",
      "Required environment variable is missing or empty: DATA_DIR",
      "Required environment variable is missing or empty: EMPTY",
    ]);
  });
  test("resolves PATH entries relative to the child's cwd", () => {
    expect(resolveExecutable("tool", dir, "bin")).toBe(path.join(dir, "bin", "tool"));
    expect(resolveExecutable("tool", dir, "/usr/bin")).toBeNull();
  });
});
