/**
 * End-to-end: the README's first quick-start command, `npm run demo`, on a checkout as CI sees it.
 */
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import { REPO } from "./helpers.ts";

test("npm run demo supervises the example job: OOM, halved BATCH_SIZE, completion, exit 0", async () => {
  const p = Bun.spawn(["bash", "scripts/demo.sh"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  expect({ code, err: code === 0 ? "" : err }).toEqual({ code: 0, err: "" });
  expect(out).toContain("oom_halve_batch → restart_with_env");
  expect(out).toContain("child started (pid");
  expect(out).toContain("with BATCH_SIZE=32");
  expect(out).toContain("stop reason:   Child completed successfully");
  expect(out).toContain("== incident folder:");
  expect(out).toContain("Restarted with overrides: `BATCH_SIZE=32`");
  // A successful demo leaves no scratch copy behind.
  const work = /supervising the example job in (\S+)/.exec(out)?.[1];
  expect(work).toBeDefined();
  expect(out).toContain(`removed the scratch copy ${work}`);
  expect(fs.existsSync(work as string)).toBe(false);
}, 120_000);
