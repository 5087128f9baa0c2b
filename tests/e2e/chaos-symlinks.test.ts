/**
 * End-to-end (issue 16, finding 7): a symlink planted at one of autosentry's own files or at the
 * incidents directory never makes it write outside the project. Each case plants one link pointing
 * outside, runs a job that crashes once (so every file is written: logs, journal, an incident, the
 * index), and checks the outside is untouched. control.jsonl and attempts.tsv (written by `pause`
 * and by agent fixes) are covered in src/util/safe-open.test.ts.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FIXTURES, makeProject, run } from "./helpers.ts";

const crashOnce = fs.readFileSync(path.join(FIXTURES, "jobs", "crash-once.sh"), "utf8");
const CONFIG = `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.2 }
`;

const planted = [
  ".autosentry/logs/process.log",
  ".autosentry/logs/autosentry.log",
  ".autosentry/logs/events.jsonl",
  ".autosentry/incidents/index.jsonl",
  ".autosentry/incidents",
  ".autosentry/logs",
];

describe("symlinks are never written through", () => {
  for (const rel of planted) {
    test(rel, async () => {
      const dir = makeProject({ "job.sh": crashOnce }, CONFIG);
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), "as-outside-"));
      try {
        const victim = path.join(outside, "victim");
        const isDir = rel.endsWith("incidents") || rel.endsWith("logs");
        if (isDir) fs.mkdirSync(victim);
        else fs.writeFileSync(victim, "precious\n");
        const link = path.join(dir, rel);
        fs.mkdirSync(path.dirname(link), { recursive: true });
        fs.symlinkSync(victim, link);
        const r = await run(["run"], { cwd: dir, timeoutMs: 60_000 });
        // Outside the project nothing changed.
        if (isDir) expect(fs.readdirSync(victim)).toEqual([]);
        else expect(fs.readFileSync(victim, "utf8")).toBe("precious\n");
        expect(fs.readdirSync(outside)).toEqual(["victim"]);
        // The link is still the planted link (refused, not replaced silently behind the user's back
        // nor followed), and the user was told in words, not a stack trace.
        expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
        expect(r.stderr).not.toMatch(/^\s+at .*\(/m);
        expect(`${r.stdout}${r.stderr}`).toContain("symbolic link");
      } finally {
        fs.rmSync(outside, { recursive: true, force: true });
      }
    }, 90_000);
  }
});
