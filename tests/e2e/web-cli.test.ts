/**
 * End-to-end: the command-line side of issue 9 with the compiled binary: `autosentry events`
 * (filters, --json, --follow), the one JSON schema shared by `status --json`, `incidents list
 * --json`, `events --json` and the web API (docs/json-api.md), and an unknown command given
 * `--help` failing instead of printing the top-level help.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, FIXTURES, incidentIds, journal, makeProject, run, testEnv, waitFor } from "./helpers.ts";
import { startWebProc, type WebProc } from "./web-helpers.ts";

let dir: string;
let web: WebProc;

beforeAll(async () => {
  dir = makeProject(
    { "job.sh": fs.readFileSync(path.join(FIXTURES, "jobs", "crash-once.sh"), "utf8") },
    "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0.2 }\n",
  );
  expect((await run(["run"], { cwd: dir })).code).toBe(0);
  web = await startWebProc(dir);
}, 120_000);

afterAll(async () => {
  await web?.stop();
});

describe("autosentry events", () => {
  test("prints the journal oldest first; --kind, --incident, --since and -n filter it", async () => {
    const all = journal(dir);
    const plain = await run(["events"], { cwd: dir });
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split("\n");
    expect(lines.length).toBe(all.length);
    expect(lines[0]).toContain("monitor_started");
    expect(lines.at(-1)).toContain("monitor_stopped");

    const kinds = await run(["events", "--kind", "child_started,child_exited", "--json"], { cwd: dir });
    const got = kinds.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(got.map((e) => e.event)).toEqual(
      all.filter((e) => ["child_started", "child_exited"].includes(e.event)).map((e) => e.event),
    );
    // --json prints each record as the journal holds it.
    expect(got[0]).toEqual(all.find((e) => e.event === "child_started")!);

    const id = incidentIds(dir)[0]!;
    const byIncident = await run(["events", "--incident", id, "--json"], { cwd: dir });
    const rows = byIncident.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((e) => e.incident_id === id)).toBe(true);

    const last2 = await run(["events", "-n", "2", "--json"], { cwd: dir });
    expect(
      last2.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).event),
    ).toEqual(all.slice(-2).map((e) => e.event));
    expect(
      (await run(["events", "--since", "2000-01-01T00:00:00Z"], { cwd: dir })).stdout.trim().split("\n")
        .length,
    ).toBe(all.length);
    expect((await run(["events", "--until", "2000-01-01"], { cwd: dir })).stdout).toBe("");

    const bad = await run(["events", "--since", "yesterday"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad --since value 'yesterday'");
    expect(bad.stderr).not.toContain("    at ");
  });

  test("--follow prints events appended later", async () => {
    const p = Bun.spawn([BIN, "events", "--follow", "--kind", "operator_command,paused", "--json"], {
      cwd: dir,
      env: testEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    let out = "";
    const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
    })();
    await Bun.sleep(500);
    // Appended the way the monitor appends (one whole line).
    const line = {
      schema_version: 1,
      time: new Date().toISOString(),
      run_id: "x",
      stage: null,
      event: "paused",
      by: "test",
    };
    fs.appendFileSync(path.join(dir, ".autosentry", "logs", "events.jsonl"), `${JSON.stringify(line)}\n`);
    await waitFor("the followed event", () => out.includes('"by":"test"'));
    p.kill("SIGINT");
    expect(await p.exited).toBe(0);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual(line);
  });
});

describe("one JSON schema", () => {
  test("status --json is /api/status; incidents list --json lines are /api/incidents items; events --json lines are /api/events items", async () => {
    const st = JSON.parse((await run(["status", "--json"], { cwd: dir })).stdout);
    const api = (await (await fetch(`${web.url}api/status`)).json()) as Record<string, unknown>;
    expect(st.schema_version).toBe(1);
    // The same report, field for field (no monitor runs, so nothing changes between the reads).
    expect(api).toEqual(st);

    const list = (await run(["incidents", "list", "--json"], { cwd: dir })).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const page = (await (await fetch(`${web.url}api/incidents`)).json()) as {
      schema_version: number;
      items: unknown[];
    };
    expect(page.schema_version).toBe(1);
    expect(page.items).toEqual([...list].reverse());

    const ev = (await run(["events", "--json", "-n", "5"], { cwd: dir })).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const evApi = (await (await fetch(`${web.url}api/events?per_page=5`)).json()) as {
      items: Array<Record<string, unknown>>;
    };
    expect(evApi.items.map(({ seq: _s, ...rest }) => rest)).toEqual([...ev].reverse());
  });
});

describe("help for an unknown command", () => {
  test("is an error (exit 2), not the top-level help with exit 0", async () => {
    for (const argv of [
      ["statsu", "--help"],
      ["help", "statsu"],
      ["incidents", "lsit", "-h"],
    ]) {
      const r = await run(argv, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("unknown command");
      expect(r.stdout).not.toContain("Usage: autosentry [options] [command]");
    }
    const ok = await run(["events", "--help"], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("Usage: autosentry events");
  });
});
