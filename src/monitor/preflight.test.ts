import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConfigText } from "../config/load.ts";
import { checkLaunch, processPreflight, resolveExecutable } from "./preflight.ts";

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

describe("processPreflight()", () => {
  const processOf = (yaml: string) =>
    parseConfigText(yaml, { file: "c.yaml", root: dir, env: {} }).data.process;

  test("checks the command, required executables and env in the child's environment", () => {
    const p = processOf(`process:
  command: [no-such-binary-xyz]
  env: { FROM_CONFIG: "1" }
  required_env: [FROM_CONFIG, FROM_MONITOR, MISSING]
  required_executables: [tool]
`);
    expect(processPreflight(p, { PATH: "bin", FROM_MONITOR: "x" })).toEqual([
      "Executable not found or not executable: 'no-such-binary-xyz' (check PATH)",
      "Required environment variable is missing or empty: MISSING",
    ]);
  });
  test("a launcher command replaces the configured one; attach has no command to check", () => {
    const p = processOf("process:\n  command: [no-such-binary-xyz]\n");
    expect(processPreflight(p, { PATH: "/usr/bin:/bin" }, ["sh"])).toEqual([]);
    const attach = processOf("process:\n  kind: attach\n  extra: { pid: 1 }\n");
    expect(processPreflight(attach, { PATH: "/usr/bin:/bin" })).toEqual([]);
  });
});
