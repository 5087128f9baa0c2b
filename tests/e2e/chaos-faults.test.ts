/**
 * End-to-end (issue 16): the faults and hostile inputs of the findings, each against the compiled
 * binary in a scratch project. The larger randomised versions live in scripts/chaos/.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  incidentIds,
  journal,
  makeProject,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

const walk = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });

describe("secrets (finding 8)", () => {
  test("known values, curl -u, rule env values, escapes: never in what autosentry writes or prints", async () => {
    const CONFIG_SECRET = "cfgSecretValue-771";
    const OWN_SECRET = "ownEnvSecret-99231";
    const RULE_SECRET = "ruleDbPass-55810";
    const HOOK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX";
    const dir = makeProject(
      {
        "job.sh": [
          'n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo "$n" > runs',
          'echo "connecting as $DB_USER with $DB_PASSWORD"', // bare, config env
          'echo "service token is $MY_SERVICE_TOKEN"', // bare, the monitor's own env
          "echo 'curl -u admin:curlPass-3141 https://example.invalid'",
          "printf 'title \\033]0;pwned\\007 and \\033[2J clear\\n'",
          'if [ "$n" -eq 1 ]; then echo "fatal: db refused" >&2; exit 2; fi',
          'echo "second run sees $DB_PASSWORD2"',
        ].join("\n"),
      },
      `process:
  command: [sh, job.sh]
  env: { DB_USER: app, DB_PASSWORD: ${CONFIG_SECRET} }
  restart_policy: { cooldown_seconds: 0.1 }
detectors:
  - { name: fatal, kind: pattern, regex: "fatal: .*" }
rules:
  - name: new_password
    match: { detector: fatal }
    action: { kind: restart_with_env, set: { DB_PASSWORD2: ${RULE_SECRET}, ALERT_HOOK: "${HOOK}" } }
`,
    );
    const env = testEnv({ MY_SERVICE_TOKEN: OWN_SECRET });
    const r = await run(["run"], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(incidentIds(dir)).toHaveLength(1);
    const outputs = [r.stdout, r.stderr];
    for (const args of [
      ["status"],
      ["status", "--json"],
      ["incidents", "list"],
      ["explain"],
      ["explain", "--json"],
    ]) {
      const o = await run(args, { cwd: dir, env });
      expect(o.code).toBe(0);
      outputs.push(o.stdout, o.stderr);
      // Printed output never carries a raw escape character to the terminal.
      expect(o.stdout).not.toContain("\x1b");
      expect(o.stdout).not.toContain("\x07");
    }
    const id = incidentIds(dir)[0]!;
    const show = await run(["incidents", "show", id], { cwd: dir, env });
    outputs.push(show.stdout);
    expect(show.stdout).not.toContain("\x1b");
    // Everything autosentry wrote, except the job's own output (process.log) and the state it
    // needs to relaunch with (state.json keeps the overlay; `status` shows it redacted).
    const written = walk(path.join(dir, ".autosentry"))
      .filter(
        (f) =>
          !/process\.log/.test(f) && !f.endsWith(`${path.sep}state.json`) && !f.endsWith("autosentry.yaml"),
      )
      .map((f) => fs.readFileSync(f, "utf8"));
    const everything = [...outputs, ...written].join("\n");
    for (const secret of [CONFIG_SECRET, OWN_SECRET, RULE_SECRET, "curlPass-3141", "XXXXsecretXXXX"])
      expect([secret, everything.includes(secret)]).toEqual([secret, false]);
    // The evidence is still there.
    expect(everything).toContain("connecting as app with [REDACTED]");
    expect(everything).toContain("curl -u admin:[REDACTED]");
  }, 120_000);
});

describe("config (finding 5)", () => {
  test("a catastrophic regex is refused with file:line:col, before anything runs", async () => {
    const dir = makeProject(
      {},
      "process:\n  command: [sh, -c, 'echo ran > ran.txt']\ndetectors:\n  - { name: bad, kind: pattern, regex: '^(\\w+\\s?)*$' }\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /autosentry\.yaml:4:\d+: detectors\[0\]\.regex: regex may backtrack catastrophically/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(path.join(dir, "ran.txt"))).toBe(false);
  });
});

describe("the lock (finding 3)", () => {
  test("12 concurrent `run`s: exactly one monitor, one copy of the job", async () => {
    const dir = makeProject(
      { "job.sh": 'echo "$$" >> starts\nwhile :; do sleep 1; done\n' },
      "process:\n  command: [sh, job.sh]\n",
    );
    const runs = Array.from({ length: 12 }, () => start(["run"], { cwd: dir }));
    // The losers exit on their own with the lock error; the winner keeps running.
    const losers: number[] = [];
    await waitFor(
      "11 losers",
      async () => {
        losers.length = 0;
        for (const [i, r] of runs.entries()) if (r.proc.exitCode !== null) losers.push(i);
        return losers.length >= 11;
      },
      60_000,
    );
    expect(losers).toHaveLength(11);
    for (const i of losers) {
      const res = await runs[i]!.wait();
      expect(res.code).toBe(1);
      expect(res.stderr).toContain("Another autosentry");
    }
    await waitFor("the job started", () => fs.existsSync(path.join(dir, "starts")));
    const winner = runs.find((r) => r.proc.exitCode === null)!;
    winner.proc.kill("SIGTERM");
    await winner.wait();
    expect(readFile(dir, "starts").trim().split("\n")).toHaveLength(1);
  }, 120_000);
});

describe("smaller findings (11)", () => {
  test("doctor fails on a read-only .autosentry (which run refuses)", async () => {
    const dir = makeProject({}, "process:\n  command: [sh, -c, 'exit 0']\n");
    const dot = path.join(dir, ".autosentry");
    expect(Bun.spawnSync(["mount", "--bind", dot, dot]).exitCode).toBe(0);
    try {
      expect(Bun.spawnSync(["mount", "-o", "remount,ro,bind", dot]).exitCode).toBe(0);
      const d = await run(["doctor"], { cwd: dir });
      expect(d.stdout).toMatch(/✗ writable dirs\s+cannot write to .*\.autosentry \(EROFS\)/);
      expect(d.code).not.toBe(0);
    } finally {
      Bun.spawnSync(["umount", dot]);
    }
  });

  test("invalid UTF-8 is kept as written in process.log", async () => {
    const dir = makeProject(
      {},
      "process:\n  command: [sh, -c, \"printf 'bad \\\\377\\\\376 bytes \\\\303\\\\251\\\\n'\"]\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const log = fs.readFileSync(path.join(dir, ".autosentry", "logs", "process.log"));
    expect(log.includes(Buffer.from([0x62, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x20]))).toBe(true);
    expect(log.includes(Buffer.from("bytes é\n", "utf8"))).toBe(true);
    expect(log.includes(Buffer.from("\ufffd", "utf8"))).toBe(false);
  });

  test("a SIGKILL to the whole process group is reported as SIGKILL, not exit unknown", async () => {
    const dir = makeProject(
      {
        "job.sh":
          'n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo "$n" > runs\nif [ "$n" -eq 1 ]; then kill -KILL -$(ps -o pgid= $$ | tr -d " "); fi\necho fine\n',
      },
      "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0.1 }\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const exits = journal(dir).filter((e) => e.event === "child_exited");
    expect(exits[0]).toMatchObject({ signal: "SIGKILL", exit_class: "signal" });
    expect(readState(dir)!.phase).toBe("completed");
  });
});

describe("a failure while the monitor is down (finding 4)", () => {
  test("the next run reads the unread tail and the exit file and handles the failure", async () => {
    const dir = makeProject(
      {
        "job.sh": [
          'n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo "$n" > runs',
          'if [ "$n" -eq 1 ]; then',
          "  echo started; while [ ! -f go ]; do sleep 0.05; done",
          `  printf 'Traceback (most recent call last):\\n  File "train.py", line 3, in <module>\\n    step()\\nRuntimeError: died unwatched\\n' >&2`,
          "  exit 1",
          "fi",
          "echo fine",
        ].join("\n"),
      },
      "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0.1 }\ndetectors:\n  - kind: traceback\n",
    );
    const first = start(["run"], { cwd: dir });
    await waitFor("the child started", () => journal(dir).some((e) => e.event === "child_started"));
    await waitFor(
      "the state recorded it",
      () => readState(dir)?.child !== null && readState(dir)?.child_running,
    );
    first.proc.kill("SIGKILL");
    await first.wait();
    // The child fails while no monitor watches; its capture process writes the exit file.
    fs.writeFileSync(path.join(dir, "go"), "");
    await waitFor("the exit file", () =>
      fs.readdirSync(path.join(dir, ".autosentry", "run")).some((f) => /^exit-1\.json$/.test(f)),
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    const ids = incidentIds(dir);
    expect(ids).toHaveLength(1);
    expect(readFile(dir, `.autosentry/incidents/${ids[0]}/report.md`)).toContain(
      "RuntimeError: died unwatched",
    );
    expect(readFile(dir, "runs").trim()).toBe("2");
  }, 120_000);
});
