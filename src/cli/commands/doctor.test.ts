import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scratchDirs } from "../../../tests/support/cli.ts";
import { compareVersions, versionCheck } from "./doctor-care.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-doctor-");
const MAIN = path.resolve(import.meta.dir, "../../../main.ts");
const CONFIG = "process:\n  command: [sleep, '1']\n";

/** doctor with a private HOME and cache (skills, update cache), as JSON. */
function doctor(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const p = Bun.spawnSync([process.execPath, "--no-env-file", MAIN, "doctor", ...args], {
    cwd: dir,
    env: {
      ...process.env,
      HOME: path.join(dir, ".home"),
      XDG_CACHE_HOME: path.join(dir, ".cache"),
      XDG_CONFIG_HOME: path.join(dir, ".cfg"),
      AUTOSENTRY_DEBUG: "",
      ...env,
    },
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
type Row = { name: string; level: string; detail: string };
const rows = (dir: string, env: Record<string, string> = {}) =>
  JSON.parse(doctor(dir, ["--json"], env).out) as Row[];
const row = (rs: Row[], name: string) => rs.find((r) => r.name === name);

function project(files: Record<string, string> = {}) {
  const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG, ...files });
  Bun.spawnSync(["git", "init", "-q", "-b", "main", dir]);
  return dir;
}

describe("doctor", () => {
  test("incidents index: counts incidents, not lines (issue 14 item 10)", () => {
    const lines = [
      { id: "20260101-000000-aaaaaaaa", time: "t", kind: "error", detector: "x", message: "m" },
      {
        id: "20260101-000000-aaaaaaaa",
        time: "t",
        kind: "error",
        detector: "x",
        message: "m",
        action: "restart",
      },
      { id: "20260101-000001-bbbbbbbb", time: "t", kind: "error", detector: "x", message: "m" },
      {
        id: "20260101-000001-bbbbbbbb",
        time: "t",
        kind: "error",
        detector: "x",
        message: "m",
        action: "restart",
      },
    ];
    const dir = project({
      ".autosentry/incidents/index.jsonl": lines.map((l) => `${JSON.stringify(l)}\n`).join(""),
    });
    expect(row(rows(dir), "incidents index")!.detail).toBe("2 incidents (4 lines)");
  });

  test("a request left by a dead monitor is stale; --fix moves it aside and checks again", () => {
    const dir = project({ ".autosentry/recovery_request.md": "please answer\n" });
    expect(row(rows(dir), "recovery request")).toMatchObject({ level: "warn" });
    const r = doctor(dir, ["--fix"]);
    expect(r.out).toContain("fixed: moved the stale request to ");
    expect(fs.existsSync(path.join(dir, ".autosentry", "recovery_request.md"))).toBe(false);
    expect(
      fs.readdirSync(path.join(dir, ".autosentry")).some((f) => f.startsWith("recovery_request.md.stale-")),
    ).toBe(true);
    expect(row(rows(dir), "recovery request")).toBeUndefined();
  });

  test("a lock whose owner is gone is stale; --fix removes it", () => {
    const dead = { pid: 2 ** 22 + 12345, proc_start: null, started_at: "t", host: os.hostname() };
    const dir = project({ ".autosentry/pipeline.lock": JSON.stringify(dead) });
    expect(row(rows(dir), "stale lock")).toMatchObject({ level: "warn" });
    doctor(dir, ["--fix"]);
    expect(fs.existsSync(path.join(dir, ".autosentry", "pipeline.lock"))).toBe(false);
  });

  test("a ledger with short rows fails; --fix keeps the good rows and the whole file aside", () => {
    const header =
      "timestamp\tincident_id\tdetector\tsource\tbranch\tstatus\tduration_seconds\tdescription\n";
    const good = "2026-01-01T00:00:00+00:00\ti1\toom\toom_halve_batch\t\tkept\t600.0\tok\n";
    const dir = project({ ".autosentry/attempts.tsv": `${header}${good}torn line\n` });
    expect(row(rows(dir), "attempts ledger")).toMatchObject({ level: "fail" });
    expect(doctor(dir).code).toBe(1);
    const r = doctor(dir, ["--fix"]);
    expect(r.out).toContain("fixed: kept the 1 good rows of the ledger");
    expect(fs.readFileSync(path.join(dir, ".autosentry", "attempts.tsv"), "utf8")).toBe(`${header}${good}`);
    expect(row(rows(dir), "attempts ledger")).toMatchObject({
      level: "ok",
      detail: expect.stringContaining("1 row"),
    });
  });

  test("a journal without vault notes: --fix rebuilds the vault from it", () => {
    const rec = {
      schema_version: 1,
      time: "2026-01-01T00:00:00.000Z",
      run_id: "r1",
      stage: null,
      event: "monitor_started",
      pid: 1,
      version: "0",
    };
    const dir = project({ ".autosentry/logs/events.jsonl": `${JSON.stringify(rec)}\n` });
    expect(row(rows(dir), "vault")).toMatchObject({ level: "warn" });
    const r = doctor(dir, ["--fix"]);
    expect(r.out).toContain("fixed: rebuilt ");
    expect(fs.readdirSync(path.join(dir, ".autosentry", "vault")).length).toBeGreaterThan(0);
    expect(row(rows(dir), "vault")).toMatchObject({ level: "ok" });
  });

  test("a folder autosentry cannot write to fails (a file in the way here; a read-only mount or a full quota alike)", () => {
    const dir = tempDir({
      ".autosentry/autosentry.yaml": `${CONFIG}monitor:\n  log_dir: blocked\n`,
      blocked: "a file where the log folder should be\n",
    });
    const r = row(rows(dir), "writable dirs")!;
    expect(r.level).toBe("fail");
    expect(r.detail).toContain(`cannot write to ${path.join(dir, "blocked")} (ENOTDIR)`);
    expect(doctor(dir).code).toBe(1);
  });

  test("git: not a repository warns (fix branches need one); a merge in progress warns", () => {
    const plain = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    expect(row(rows(plain), "git repository")).toMatchObject({
      level: "warn",
      detail: expect.stringContaining("not in a git work tree"),
    });
    const dir = project();
    expect(row(rows(dir), "git repository")).toMatchObject({
      level: "ok",
      detail: expect.stringContaining("on main"),
    });
    fs.writeFileSync(path.join(dir, ".git", "MERGE_HEAD"), "0".repeat(40));
    expect(row(rows(dir), "git repository")).toMatchObject({
      level: "warn",
      detail: expect.stringContaining("MERGE_HEAD"),
    });
  });

  test("version: the update cache may be missing; an older version warns", () => {
    const dir = project();
    expect(row(rows(dir), "version")!.detail).toContain("no update check yet");
    fs.mkdirSync(path.join(dir, ".cache", "autosentry"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, ".cache", "autosentry", "update-check.json"),
      JSON.stringify({ checked_at: "2026-12-01T00:00:00Z", latest: "999.0.0" }),
    );
    expect(row(rows(dir), "version")).toMatchObject({
      level: "warn",
      detail: expect.stringContaining("older than 999.0.0"),
    });
  });

  test("skills: an outdated installed text warns, --fix refreshes it; a Stop hook whose program is gone warns", () => {
    const dir = project();
    Bun.spawnSync([process.execPath, "--no-env-file", MAIN, "skills", "install", "--tool", "codex"], {
      cwd: dir,
      env: { ...process.env, HOME: path.join(dir, ".home") },
    });
    expect(row(rows(dir), "skills (local)")).toMatchObject({ level: "ok", detail: "1 file up to date" });
    const file = path.join(dir, ".codex", "prompts", "autosentry.md");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("Phase 1: install", "Phase 1: old"));
    expect(row(rows(dir), "skills (local)")).toMatchObject({ level: "warn" });
    expect(doctor(dir, ["--fix"]).out).toContain("fixed: refreshed the local skills of codex:autosentry");
    expect(fs.readFileSync(file, "utf8")).toContain("Phase 1: install");
    fs.mkdirSync(path.join(dir, ".claude"));
    fs.writeFileSync(
      path.join(dir, ".claude", "settings.local.json"),
      JSON.stringify({
        hooks: {
          Stop: [{ hooks: [{ type: "command", command: "/gone/autosentry probe --inject-prompt --quiet" }] }],
        },
      }),
    );
    expect(row(rows(dir), "stop hook program")).toMatchObject({ level: "warn" });
    doctor(dir, ["--fix"]);
    expect(row(rows(dir), "stop hook program")).toBeUndefined();
  });
});

test("compareVersions and versionCheck", () => {
  expect(compareVersions("0.1.0", "0.2.0")).toBe(-1);
  expect(compareVersions("1.10.0", "1.9.9")).toBe(1);
  expect(compareVersions("v1.0.0", "1.0.0")).toBe(0);
  expect(compareVersions("1.0.0-rc.1", "1.0.0")).toBe(-1);
  const dir = tempDir({ ".cache/autosentry/update-check.json": "{not json" });
  expect(versionCheck({ XDG_CACHE_HOME: path.join(dir, ".cache") }, "1.0.0").detail).toContain("cannot read");
  fs.writeFileSync(
    path.join(dir, ".cache/autosentry/update-check.json"),
    '{"checked_at":"x","latest":"1.0.0"}',
  );
  expect(versionCheck({ XDG_CACHE_HOME: path.join(dir, ".cache") }, "1.0.0")).toMatchObject({ level: "ok" });
});
