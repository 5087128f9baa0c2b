import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, scratchDirs } from "../../../tests/support/cli.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-runcheck-");

describe("run --check looks for the script handed to an interpreter (issue 14 item 2)", () => {
  test("init in an empty directory, then run --check: train.py is missing, exit 126", () => {
    const dir = tempDir();
    expect(runCli(dir, ["init", "--non-interactive"]).code).toBe(0);
    const r = runCli(dir, ["run", "--check"]);
    expect(r.code).toBe(126);
    expect(r.err).toContain(`Script not found: 'train.py' (python would fail: no such file in ${dir})`);
    expect(r.out).not.toContain("All launch requirements passed");
  });

  test("the script is looked for in process.cwd; once it exists the check passes", () => {
    const dir = tempDir({
      ".autosentry/autosentry.yaml": "process:\n  command: [sh, -e, job.sh]\n  cwd: work\n",
      "work/.keep": "",
    });
    const missing = runCli(dir, ["run", "--check"]);
    expect(missing.code).toBe(126);
    expect(missing.err).toContain(
      `Script not found: 'job.sh' (sh would fail: no such file in ${path.join(dir, "work")})`,
    );
    fs.writeFileSync(path.join(dir, "work", "job.sh"), "echo hi\n");
    const ok = runCli(dir, ["run", "--check"]);
    expect(ok).toEqual({ code: 0, out: "All launch requirements passed\n", err: "" });
  });

  test("inline code has no script to look for; pipeline stages are checked too", () => {
    const inline = tempDir({ ".autosentry/autosentry.yaml": "process:\n  command: [sh, -c, 'echo hi']\n" });
    expect(runCli(inline, ["run", "--check"]).code).toBe(0);
    const stages = tempDir({
      ".autosentry/autosentry.yaml":
        "process:\n  stages:\n    - name: prep\n      command: [sh, prep.sh]\n    - name: train\n      command: [sh, -c, 'true']\n",
    });
    const r = runCli(stages, ["run", "--check"]);
    expect(r.code).toBe(126);
    expect(r.err).toContain("stage 'prep': Script not found: 'prep.sh'");
  });
});
