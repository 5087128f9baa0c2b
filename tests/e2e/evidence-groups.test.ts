/**
 * End-to-end: the same failure over several runs of `autosentry run`. The incidents share a
 * fingerprint (even after the file was edited above the failing line), `incidents list --group`
 * shows the failure once with its count, the later report links the earlier one, the vault's
 * notes link each other with every link resolving, and `explain` bundles the run asked for.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { incidentIds, journal, makeProject, readFile, readState, run } from "./helpers.ts";

const JOB = `import os


class Loader:
    def fetch(self, batch):
        if os.environ.get("MODE") == "other":
            raise ValueError("unsupported mode")
        return batch["label"]


Loader().fetch({"x": 1})
`;

const CONFIG = `process:
  command: [python3, job.py]
  lifecycle: one_shot
detectors:
  - kind: traceback
vault: { pattern_threshold: 2 }
`;

/** Every note of the vault (relative, without .md). */
function notes(vault: string): string[] {
  return (fs.readdirSync(vault, { recursive: true }) as string[])
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.slice(0, -3));
}

/** Links of every note that do not resolve to a file: `[[target]]` from the vault root, `(relative)` from the note. */
function brokenLinks(vault: string): string[] {
  const broken: string[] = [];
  for (const n of notes(vault)) {
    const text = fs.readFileSync(path.join(vault, `${n}.md`), "utf8");
    for (const m of text.matchAll(/\[\[([^\]|]+)(?:\|[^\]]*)?\]\]/g)) {
      if (!fs.existsSync(path.join(vault, `${m[1]}.md`))) broken.push(`${n} → [[${m[1]}]]`);
    }
    for (const m of text.matchAll(/\]\(([^)]+)\)/g)) {
      if (!fs.existsSync(path.resolve(path.dirname(path.join(vault, n)), decodeURIComponent(m[1]!)))) {
        broken.push(`${n} → (${m[1]})`);
      }
    }
  }
  return broken;
}

describe("the same failure across runs", () => {
  test("one group, linked reports, a linked vault, and explain per run", async () => {
    const dir = makeProject({ "job.py": JOB }, CONFIG);
    expect((await run(["run"], { cwd: dir })).code).toBe(1);
    // Edited above the failing line: the same failure for the fingerprint.
    fs.writeFileSync(path.join(dir, "job.py"), `# a comment\n${JOB}`);
    expect((await run(["run"], { cwd: dir })).code).toBe(1);
    fs.writeFileSync(
      path.join(dir, ".autosentry", "autosentry.yaml"),
      CONFIG.replace("lifecycle: one_shot", "lifecycle: one_shot\n  env: { MODE: other }"),
    );
    expect((await run(["run"], { cwd: dir })).code).toBe(1);

    const ids = incidentIds(dir);
    expect(ids).toHaveLength(3);
    const [first, second, third] = ids as [string, string, string];

    const grouped = await run(["incidents", "list", "--group", "--json"], { cwd: dir });
    expect(grouped.code).toBe(0);
    const groups = grouped.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(groups.map((g) => [g.count, g.first_id, g.last_id])).toEqual([
      [2, first, second],
      [1, third, third],
    ]);
    expect(groups[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(groups[0].first_seen <= groups[0].last_seen).toBe(true);
    const table = await run(["incidents", "list", "--group"], { cwd: dir });
    expect(table.stdout.split("\n")[0]!.split(/\s{2,}/)).toEqual([
      "count",
      "first seen",
      "last seen",
      "last id",
      "detector",
      "message",
    ]);

    const secondReport = readFile(dir, `.autosentry/incidents/${second}/report.md`);
    expect(secondReport).toContain(`- [${first}](../${first}/report.md)`);
    expect(fs.existsSync(path.join(dir, ".autosentry", "incidents", second, "..", first, "report.md"))).toBe(
      true,
    );
    expect(secondReport).toMatch(/\*\*Seen before:\*\* once \(at /);
    expect(readFile(dir, `.autosentry/incidents/${first}/report.md`)).toContain("**Seen before:** never");
    expect(readFile(dir, `.autosentry/incidents/${third}/report.md`)).toContain("**Seen before:** never");

    // The vault: three runs, three incidents, one pattern (threshold 2) linking both, no dangling link.
    const vault = path.join(dir, ".autosentry", "vault");
    const runIds = [...new Set(journal(dir).map((e) => e.run_id as string))];
    expect(runIds).toHaveLength(3);
    const all = notes(vault);
    for (const id of runIds) {
      expect(all).toContain(`runs/${id}`);
      expect(all).toContain(`runs/${id}/child-1`);
    }
    for (const id of ids) expect(all).toContain(`incidents/${id}`);
    const patterns = all.filter((n) => n.startsWith("patterns/"));
    expect(patterns).toHaveLength(1);
    const pattern = fs.readFileSync(path.join(vault, `${patterns[0]}.md`), "utf8");
    expect(pattern).toContain(`[[incidents/${first}|`);
    expect(pattern).toContain(`[[incidents/${second}|`);
    expect(pattern).not.toContain(third);
    expect(fs.readFileSync(path.join(vault, `incidents/${second}.md`), "utf8")).toContain(
      `[report.md](../../incidents/${second}/report.md)`,
    );
    expect(brokenLinks(vault)).toEqual([]);

    // explain: the current run by default, an earlier run by id.
    const current = JSON.parse((await run(["explain", "--json"], { cwd: dir })).stdout);
    expect(current.run.id).toBe(readState(dir)!.run_id);
    expect(current.run.incidents.map((i: { id: string }) => i.id)).toEqual([third]);
    expect(current.observed_stop_reason).toBe("Child exited with code 1 (one_shot)");
    const earlier = await run(["explain", "--json", "--run-id", runIds[0]!], { cwd: dir });
    expect(earlier.code).toBe(0);
    const bundle = JSON.parse(earlier.stdout);
    expect(bundle.run.incidents.map((i: { id: string }) => i.id)).toEqual([first]);
    expect(Object.keys(bundle.sources)).toContain(`.autosentry/incidents/${first}/report.md`);
    const md = await run(["explain", "--run-id", runIds[0]!], { cwd: dir });
    expect(md.stdout).toStartWith(`# Run ${runIds[0]}\n`);
    expect(md.stdout).toContain(`## Evidence: .autosentry/incidents/${first}/report.md`);

    const bad = await run(["explain", "--run-id", "../../etc/passwd"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("expected 32 lowercase hex");
    const unknown = await run(["explain", "--run-id", "f".repeat(32)], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`No run ${"f".repeat(32)}`);
  });
});
