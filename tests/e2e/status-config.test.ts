/**
 * End-to-end: `status` keeps what it needs from the config between calls (src/cli/status-config.ts,
 * issue 13) without changing what it reports: the same output from its record as from a fresh
 * validation; a config broken after a recorded success is still reported with file:line:col and
 * exit 2; a changed env var that the config names is taken into account; and a value that came
 * from the environment is never written to the record.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeProject, run, testEnv } from "./helpers.ts";

/** A private cache directory, so that each test starts without a record. */
function cacheEnv(extra: Record<string, string> = {}): { env: Record<string, string>; cache: string } {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "as-e2e-cache-"));
  return { env: testEnv({ XDG_CACHE_HOME: cache, ...extra }), cache };
}

/** Where status keeps its records inside a cache directory (the capture helper lives beside it). */
function statusRecords(cache: string): string {
  return path.join(cache, "autosentry", "status");
}

/** Every file under `dir`, with its content. */
function filesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out.push({ file, text: fs.readFileSync(file, "utf8") });
  }
  return out;
}

describe("status and its config record", () => {
  test("the record gives the same output as a fresh validation, and is kept private", async () => {
    const dir = makeProject(
      { "job.sh": "echo failing; exit 7\n" },
      `process:
  command: [sh, job.sh]
  env: { API_TOKEN: "plain-token-in-the-file" }
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 1, max_identical_failures: 0 }
`,
    );
    const { env, cache } = cacheEnv();
    expect((await run(["run"], { cwd: dir, env })).code).toBe(7);
    const first = await run(["status", "--json"], { cwd: dir, env }); // validates, writes the record
    const records = filesUnder(statusRecords(cache));
    expect(records).toHaveLength(1);
    expect(fs.statSync(records[0]!.file).mode & 0o777).toBe(0o600);
    const second = await run(["status", "--json"], { cwd: dir, env }); // from the record
    const fresh = await run(["status", "--json"], { cwd: dir, env: cacheEnv().env }); // another empty cache
    expect(first.code).toBe(0);
    expect(second).toEqual(first);
    expect(fresh).toEqual(first);
    expect(JSON.parse(first.stdout).stop_reason).toBe("Max restarts reached (1/1)");
    const human = await run(["status"], { cwd: dir, env });
    const humanFresh = await run(["status"], { cwd: dir, env: cacheEnv().env });
    expect(human.stdout.replace(/\(\d+[smhd].*?ago\)/g, "")).toBe(
      humanFresh.stdout.replace(/\(\d+[smhd].*?ago\)/g, ""),
    );
  }, 120_000);

  test("a config broken after a recorded success is reported as before: file:line:col, exit 2", async () => {
    const good = "process:\n  command: [sleep, '1']\n";
    const dir = makeProject({}, good);
    const { env } = cacheEnv();
    const ok = await run(["status"], { cwd: dir, env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("No state yet");
    expect((await run(["status"], { cwd: dir, env })).stdout).toBe(ok.stdout);
    const cfg = path.join(dir, ".autosentry", "autosentry.yaml");
    fs.writeFileSync(cfg, `${good}  restart_policy: { max_restarts: lots }\n`);
    const broken = await run(["status"], { cwd: dir, env });
    expect(broken).toEqual({
      code: 2,
      stdout: "",
      stderr:
        '.autosentry/autosentry.yaml:3:35: process.restart_policy.max_restarts: expected a number (got "lots")\n',
    });
    fs.writeFileSync(cfg, good);
    expect(await run(["status"], { cwd: dir, env })).toEqual(ok);
  }, 60_000);

  test("a changed value of an env var the config names is used; its value is never written to the record", async () => {
    const value = "blue-harbor-lantern";
    const dir = makeProject(
      { "job.sh": `echo "fatal: login refused for ${value}"; exit 3\n` },
      `process:
  command: [sh, job.sh]
  env: { DB_PASSWORD: "\${PLAIN_SOURCE}" }
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 1, max_identical_failures: 0 }
state_path: \${STATE_DIR}/state.json
`,
    );
    const a = path.join(dir, ".autosentry");
    const b = path.join(dir, "elsewhere");
    const { cache, env } = cacheEnv({ PLAIN_SOURCE: "not-that-one", STATE_DIR: a });
    // The monitor ran while the password was another value: the job's line is kept as printed.
    expect((await run(["run"], { cwd: dir, env })).code).toBe(3);
    const plain = await run(["status", "--json"], { cwd: dir, env });
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).state_path).toBe(path.join(a, "state.json"));
    expect(plain.stdout).toContain(value);
    // Now it is the password (through a variable whose name says nothing: only the config makes it
    // a secret): status redacts it, from the record as from a fresh validation.
    for (const e of [{ ...env, PLAIN_SOURCE: value }, cacheEnv({ PLAIN_SOURCE: value, STATE_DIR: a }).env]) {
      const secret = await run(["status", "--json"], { cwd: dir, env: e });
      expect(secret.code).toBe(0);
      expect(secret.stdout).not.toContain(value);
      expect(secret.stdout).toContain("login refused for [REDACTED]");
    }
    const moved = await run(["status", "--json"], { cwd: dir, env: { ...env, STATE_DIR: b } });
    expect(JSON.parse(moved.stdout).state_path).toBe(path.join(b, "state.json"));
    // An unset variable is an error of the config, with or without a record.
    const { STATE_DIR: _unset, ...withoutStateDir } = env;
    const unset = await run(["status"], { cwd: dir, env: withoutStateDir });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("STATE_DIR");
    const records = filesUnder(statusRecords(cache));
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(r.text).not.toContain(value);
      expect(r.text).toContain("$" + "{PLAIN_SOURCE}"); // as written in the file
    }
  }, 120_000);

  test("incidents list and show read the same record: same output, a moved incidents_dir is followed, a broken config reported", async () => {
    const dir = makeProject(
      { "job.sh": "echo 'fatal: the disk is on fire'; exit 4\n" },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 1, max_identical_failures: 0 }
incidents_dir: \${INC_DIR}
`,
    );
    const first = path.join(dir, "inc-a");
    const { env, cache } = cacheEnv({ INC_DIR: first });
    expect((await run(["run"], { cwd: dir, env })).code).toBe(4);
    const list = await run(["incidents", "list"], { cwd: dir, env }); // validates, writes the record
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("process exited with code 4");
    expect(filesUnder(statusRecords(cache))).toHaveLength(1);
    expect(await run(["incidents", "list"], { cwd: dir, env })).toEqual(list); // from the record
    expect(await run(["incidents", "list"], { cwd: dir, env: cacheEnv({ INC_DIR: first }).env })).toEqual(
      list,
    );
    const show = await run(["incidents", "show", "last"], { cwd: dir, env });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("fatal: the disk is on fire"); // the last lines before the failure
    // The variable now names an empty directory: the record is not used for the old value.
    const moved = await run(["incidents", "list"], {
      cwd: dir,
      env: { ...env, INC_DIR: path.join(dir, "inc-b") },
    });
    expect(moved.stdout).toBe(`No incidents recorded in ${path.join(dir, "inc-b")}\n`);
    const cfg = path.join(dir, ".autosentry", "autosentry.yaml");
    fs.appendFileSync(cfg, "oops: [\n");
    const broken = await run(["incidents", "list"], { cwd: dir, env });
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe("");
    expect(broken.stderr).toContain(".autosentry/autosentry.yaml:");
  }, 120_000);
});
