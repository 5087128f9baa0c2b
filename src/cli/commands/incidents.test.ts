import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Detection } from "../../core/types.ts";
import { groupEntries } from "../../incidents/groups.ts";
import { FsIncidentStore } from "../../incidents/store.ts";
import { newIncident, T0, tracebackDetection } from "../../incidents/test-fixtures.ts";
import { MemoryLogger } from "../../util/logger.ts";
import { CliExit } from "../exit.ts";
import { renderList, renderShow } from "./incidents.ts";

const MAIN = path.resolve(import.meta.dir, "../../../main.ts");

let tmp: string;
let dir: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-cli-incidents-"));
  dir = path.join(tmp, ".autosentry", "incidents");
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Open incidents one second apart; returns their ids. */
async function seed(dets: Detection[]): Promise<string[]> {
  let t = T0;
  const s = new FsIncidentStore({ dir, logger: new MemoryLogger(), now: () => (t += 1000) });
  const ids: string[] = [];
  for (const d of dets) ids.push((await s.create(newIncident({ detection: d, related: [d] }))).id);
  return ids;
}

function run(args: string[]) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], {
    cwd: tmp,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("renderList", () => {
  test("a table of the newest N with id, kind, detector, rule, action and a clipped message", async () => {
    const long = `RuntimeError: ${"x".repeat(200)}`;
    const ids = await seed([
      tracebackDetection({ message: "ValueError: a" }),
      tracebackDetection({ message: long }),
      tracebackDetection({ detector: "oom", detectorKind: "pattern", message: "CUDA out of memory" }),
    ]);
    const s = new FsIncidentStore({ dir, logger: new MemoryLogger() });
    await s.recordOutcome(ids[2]!, {
      outcome: {
        source: "rule",
        ruleName: "halve",
        detection: tracebackDetection(),
        action: { kind: "restart_with_env", set: { BS: "half" }, command: [], notify: true },
      },
      resolvedEnv: { BS: "8" },
    });
    const lines = renderList(dir, { limit: 2 }).trimEnd().split("\n");
    expect(lines.length).toBe(3);
    expect(lines[0]!.split(/\s{2,}/)).toEqual(["id", "kind", "detector", "rule", "action", "message"]);
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      ids[1]!,
      "error",
      "traceback",
      "-",
      "-",
      `RuntimeError: ${"x".repeat(65)}…`,
    ]);
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      ids[2]!,
      "error",
      "oom",
      "halve",
      "restart_with_env",
      "CUDA out of memory",
    ]);
  });

  test("--json prints one index entry per line; an empty index says so", async () => {
    expect(renderList(dir, { limit: 20 })).toBe(`No incidents recorded in ${dir}\n`);
    expect(renderList(dir, { limit: 20, json: true })).toBe("");
    const ids = await seed([tracebackDetection(), tracebackDetection()]);
    const out = renderList(dir, { limit: 20, json: true }).trimEnd().split("\n");
    expect(out.map((l) => JSON.parse(l).id)).toEqual(ids);
    expect(JSON.parse(out[0]!)).toMatchObject({ kind: "error", detector: "traceback", rule: null });
  });

  test("--group shows each failure once by fingerprint, with count, first and last seen", async () => {
    const moved = tracebackDetection({ message: "ValueError: bad batch ``9``" });
    moved.trace!.exceptions[1]!.frames[0]!.file = "/other/checkout/lib/model step.py";
    const ids = await seed([
      tracebackDetection(),
      tracebackDetection({
        detector: "oom",
        detectorKind: "pattern",
        message: "CUDA out of memory",
        trace: undefined,
      }),
      moved,
      tracebackDetection({ detector: "fatal", message: "Timeout after 30s on rank 1", trace: undefined }),
      tracebackDetection({ detector: "fatal", message: "Timeout after 31s on rank 7", trace: undefined }),
    ]);
    const all = await listAll();
    const groups = groupEntries(all);
    expect(groups.map((g) => [g.count, g.first_id, g.last_id])).toEqual([
      [1, ids[1]!, ids[1]!],
      [2, ids[0]!, ids[2]!],
      [2, ids[3]!, ids[4]!],
    ]);
    expect(groups[1]).toMatchObject({
      fingerprint: all[0]!.fingerprint,
      first_seen: new Date(T0 + 1000).toISOString(),
      last_seen: new Date(T0 + 3000).toISOString(),
      message: "ValueError: bad batch ``9``",
    });
    const text = renderList(dir, { limit: 2, group: true }).trimEnd().split("\n");
    expect(text.length).toBe(3);
    expect(text[0]!.split(/\s{2,}/)).toEqual([
      "count",
      "first seen",
      "last seen",
      "last id",
      "detector",
      "message",
    ]);
    expect(text[1]!.split(/\s{2,}/)).toEqual([
      "2",
      "2026-03-04 05:06:08",
      "2026-03-04 05:06:10",
      ids[2]!,
      "traceback",
      "ValueError: bad batch ``9``",
    ]);
    const json = renderList(dir, { limit: 20, group: true, json: true })
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json.map((g) => g.count)).toEqual([1, 2, 2]);
  });

  test("--group falls back to the message heuristic for index lines without a fingerprint", async () => {
    const base = {
      time: "",
      kind: "error",
      exception_type: null,
      rule: null,
      action: null,
      source: null,
      generation: 1,
    };
    const groups = groupEntries([
      { ...base, id: "a", detector: "fatal", message: "step 10 failed", fingerprint: null },
      { ...base, id: "b", detector: "fatal", message: "step 11 failed", fingerprint: null },
      { ...base, id: "c", detector: "fatal", message: "step 12 failed", fingerprint: "0123456789abcdef" },
    ]);
    expect(groups.map((g) => [g.count, g.first_id, g.fingerprint])).toEqual([
      [2, "a", null],
      [1, "c", "0123456789abcdef"],
    ]);
  });
});

async function listAll() {
  return new FsIncidentStore({ dir, logger: new MemoryLogger() }).list();
}

describe("renderShow", () => {
  test("prints report.md; --json gives the entry and the files", async () => {
    const [id] = await seed([tracebackDetection()]);
    expect(renderShow(dir, id!, {})).toBe(fs.readFileSync(path.join(dir, id!, "report.md"), "utf8"));
    const j = JSON.parse(renderShow(dir, id!, { json: true }));
    expect(j.id).toBe(id);
    expect(j.dir).toBe(path.join(dir, id!));
    expect(j.entry).toMatchObject({ id, detector: "traceback" });
    expect(j.files).toContain("report.md");
    expect(j.files).toContain("frames/01-model-step.py.md");
  });

  test("a unique prefix of the id and `last` name an incident; an ambiguous prefix says so", async () => {
    const [first, second] = await seed([tracebackDetection(), tracebackDetection()]);
    expect(first).not.toBe(second);
    const report = (id: string) => fs.readFileSync(path.join(dir, id, "report.md"), "utf8");
    expect(renderShow(dir, "last", {})).toBe(report(second!));
    // The shortest prefix that tells the two apart names the first one.
    let n = 1;
    while (second!.startsWith(first!.slice(0, n))) n++;
    expect(renderShow(dir, first!.slice(0, n), {})).toBe(report(first!));
    const common = first!.slice(0, n - 1);
    expect(() => renderShow(dir, common, {})).toThrow(
      `Cannot show incident: "${common}" names 2 incidents (${first}, ${second}); give more of the id`,
    );
  });

  test("`last` with no incidents is a clear error", () => {
    expect(() => renderShow(dir, "last", {})).toThrow(
      `Cannot show incident: no incidents recorded in ${dir}`,
    );
  });

  test("an invalid, unknown or escaping id ends with exit 1 and a clear message", async () => {
    await seed([tracebackDetection()]);
    const err = (id: string) => {
      try {
        renderShow(dir, id, {});
      } catch (e) {
        return e as CliExit;
      }
      throw new Error("expected CliExit");
    };
    expect(err("../../etc")).toBeInstanceOf(CliExit);
    expect(err("../../etc").code).toBe(1);
    expect(err("../../etc").message).toBe(
      'Cannot show incident: "../../etc" is not an incident id (letters, digits, . _ : -)',
    );
    expect(err("2020-01-01T00-00-00Z-error-x").message).toBe(
      `Cannot show incident: no incident 2020-01-01T00-00-00Z-error-x in ${dir} (see \`autosentry incidents list\`)`,
    );
    expect(err("..").message).toContain("is not an incident id");
  });
});

describe("autosentry incidents (CLI)", () => {
  test("list and show with default paths (no config file, project root = cwd)", async () => {
    const [id] = await seed([tracebackDetection()]);
    const list = run(["incidents", "list", "-n", "5"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id!);
    const show = run(["incidents", "show", id!]);
    expect(show.code).toBe(0);
    expect(show.stdout).toStartWith("# Incident — ");
    const bad = run(["incidents", "show", "../outside"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("is not an incident id");
    expect(run(["incidents", "list", "-n", "many"]).code).toBe(2);
  });

  test("-c names a config whose incidents_dir is used", async () => {
    const other = path.join(tmp, "elsewhere");
    const cfg = path.join(tmp, "custom.yaml");
    fs.writeFileSync(cfg, `incidents_dir: elsewhere\n`);
    const s = new FsIncidentStore({ dir: other, logger: new MemoryLogger(), now: () => T0 });
    const { id } = await s.create(newIncident());
    const out = run(["incidents", "list", "--json", "-c", cfg]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout.trim()).id).toBe(id);
  });
});
