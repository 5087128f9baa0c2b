/**
 * End to end, with the compiled binary: onboarding and care (issue 8) and the first-hour fixes of
 * issue 14 that need a monitor (a child that cannot start; reset through a running monitor).
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  BIN,
  FIXTURES,
  journal,
  makeProject,
  readFile,
  readState,
  run,
  start,
  testEnv,
  waitFor,
} from "./helpers.ts";

/** Every file under `dir` with its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

describe("skills install --tool all", () => {
  test("twice, local and global: the second run leaves every file byte-identical", async () => {
    const dir = makeProject({ "AGENTS.md": "# Ours\n\nKeep this.\n" }, "process:\n  command: [sleep, '1']\n");
    const home = makeProject();
    const env = testEnv({ HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") });
    for (const scope of ["local", "global"]) {
      const first = await run(["skills", "install", "--tool", "all", "--skill", "all", "--scope", scope], {
        cwd: dir,
        env,
      });
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      const before = { ...snapshot(dir), ...snapshot(home) };
      const second = await run(["skills", "install", "--tool", "all", "--skill", "all", "--scope", scope], {
        cwd: dir,
        env,
      });
      expect(second.code).toBe(0);
      expect(second.stdout).not.toMatch(/\b(created|updated|merged)\b/);
      expect({ ...snapshot(dir), ...snapshot(home) }).toEqual(before);
    }
    // The user's AGENTS.md kept its text; Claude Code got its command, its skill and the Stop hook.
    expect(readFile(dir, "AGENTS.md").startsWith("# Ours\n\nKeep this.\n")).toBe(true);
    expect(fs.existsSync(path.join(dir, ".claude", "skills", "autosentry", "SKILL.md"))).toBe(true);
    expect(JSON.parse(readFile(dir, ".claude/settings.local.json")).hooks.Stop).toHaveLength(1);
    expect(fs.existsSync(path.join(home, ".gemini", "commands", "autosentry.toml"))).toBe(true);
    const list = await run(["skills", "list", "--json"], { cwd: dir, env });
    const files = JSON.parse(list.stdout).files as Array<{ state: string }>;
    expect(files.every((f) => f.state === "installed")).toBe(true);
  });
});

describe("completion", () => {
  test("bash: the generated script, sourced in a real bash, completes subcommands and choices", async () => {
    const bc = "/usr/share/bash-completion/bash_completion";
    if (!fs.existsSync(bc))
      throw new Error(`${bc} is missing: scripts/ci/tools-up.sh installs bash-completion`);
    const bin = makeProject();
    fs.symlinkSync(BIN, path.join(bin, "autosentry"));
    // bash itself is driven here, calling the completion function the script registered.
    const bash = (line: string) => {
      const p = Bun.spawnSync(["bash", path.join(FIXTURES, "complete.bash")], {
        env: testEnv({ PATH: `${bin}:${testEnv().PATH}`, LINE: line }),
      });
      return p.stdout
        .toString()
        .split("\n")
        .filter(Boolean)
        .map((w) => w.trim());
    };
    expect(bash("autosentry skil")).toEqual(["skills"]);
    expect(bash("autosentry skills install --scope ")).toEqual(["local", "global"]);
    expect(bash("autosentry inst")).toContain("install-service");
  });
});

describe("completion in zsh and fish", () => {
  const binDir = () => {
    const bin = makeProject();
    fs.symlinkSync(BIN, path.join(bin, "autosentry"));
    return bin;
  };
  const shell = (argv: string[], bin: string) => {
    // HOME in the scratch dir: compinit and fish write their caches there.
    const p = Bun.spawnSync(argv, {
      env: testEnv({ PATH: `${bin}:${testEnv().PATH}`, HOME: bin, XDG_CONFIG_HOME: "", XDG_DATA_HOME: "" }),
    });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("fish: the script loads and completes subcommands and choices", () => {
    if (!Bun.which("fish")) throw new Error("fish is missing: scripts/ci/tools-up.sh installs it");
    const bin = binDir();
    const scope = shell(
      ["fish", "-c", 'autosentry completion fish | source; complete -C "autosentry skills install --scope "'],
      bin,
    );
    expect(scope.out.split("\n").filter(Boolean).sort()).toEqual(["global", "local"]);
    const sub = shell(
      ["fish", "-c", 'autosentry completion fish | source; complete -C "autosentry skil"'],
      bin,
    );
    expect(sub.out).toStartWith("skills\t");
  });

  test("zsh: the script loads under compinit and defines the completion function", () => {
    if (!Bun.which("zsh")) throw new Error("zsh is missing: scripts/ci/tools-up.sh installs it");
    const r = shell(
      [
        "zsh",
        "-c",
        "autoload -U compinit; compinit -u; source <(autosentry completion zsh); whence -w _autosentry",
      ],
      binDir(),
    );
    expect(r.err).toBe("");
    expect(r.out.trim()).toBe("_autosentry: function");
  });
});

describe("a child that cannot start (issue 14 item 2)", () => {
  test("the foreground output and status say so, with the child's last words", async () => {
    const dir = makeProject(
      { "job.sh": "echo 'FileNotFoundError: data/train.csv'; exit 2\n" },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 3, max_identical_failures: 0, backoff: fixed }
healing:
  claude: { enabled: false }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      "the child failed within 10s of starting on each of the last 2 launches (exit 2)",
    );
    expect(r.stdout).toContain("its last output: FileNotFoundError: data/train.csv");
    expect(r.stdout).toContain(
      `its output is in ${path.join(fs.realpathSync(dir), ".autosentry", "logs", "process.log")}`,
    );
    const st = readState(dir)!;
    expect(st.startup_failures.count).toBe(4);
    const status = await run(["status"], { cwd: dir });
    expect(status.stdout).toContain("cannot start:");
    expect(status.stdout).toContain("each of the last 4 launches (exit 2)");
    expect(journal(dir).some((e) => e.event === "startup_failures")).toBe(true);
  });

  test("a crash loop of 200 launches is said 7 times (2, 5, 10, 20, 50, 100, 200), status keeps the exact count", async () => {
    const dir = makeProject(
      // The pid differs at every launch: numbers in the last line do not make it a new failure.
      { "job.sh": 'echo "FileNotFoundError: data/train.csv (pid $$)"; exit 2\n' },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0, max_restarts: 199, max_identical_failures: 0, backoff: fixed }
healing:
  claude: { enabled: false }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(2);
    const counts = (text: string) =>
      [...text.matchAll(/failed within 10s of starting on each of the last (\d+) launches/g)].map((m) =>
        Number(m[1]),
      );
    expect(counts(r.stdout)).toEqual([2, 5, 10, 20, 50, 100, 200]);
    expect(r.stdout).toContain("still failing to start (200 times in a row): ");
    expect(counts(readFile(dir, ".autosentry/logs/autosentry.log"))).toEqual([2, 5, 10, 20, 50, 100, 200]);
    const said = journal(dir).filter((e) => e.event === "startup_failures");
    expect(said.map((e) => e.count)).toEqual([2, 5, 10, 20, 50, 100, 200]);
    // Every launch was counted, with the latest launch's figures.
    const st = readState(dir)!;
    expect(st.startup_failures.count).toBe(200);
    expect(st.startup_failures.last_code).toBe(2);
    expect(st.startup_failures.last_output).toMatch(/^FileNotFoundError: data\/train\.csv \(pid \d+\)$/);
    const status = await run(["status"], { cwd: dir });
    expect(status.stdout).toContain("each of the last 200 launches (exit 2)");
    expect(status.stdout).toContain(`its last output: ${st.startup_failures.last_output}`);
  });

  test("a child that starts after failing to: one line says so, and status stops saying it cannot start", async () => {
    const dir = makeProject(
      {
        "job.sh":
          'n=$(cat .tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > .tries\nif [ $n -le 3 ]; then echo "no GPU yet"; exit 2; fi\nsleep 12; echo done\n',
      },
      `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.1, max_restarts: 5, max_identical_failures: 0, backoff: fixed }
healing:
  claude: { enabled: false }
`,
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("each of the last 2 launches (exit 2)");
    expect(r.stdout).toContain("the child started: it ran past 10s after failing to start 3 times in a row");
    expect(readState(dir)!.startup_failures.count).toBe(0);
    const said = journal(dir).filter((e) => e.event === "startup_failures");
    expect(said.map((e) => [e.count, e.said ?? null, e.ended_after ?? null])).toEqual([
      [2, "began", null],
      [0, null, 3],
    ]);
  });

  test("a child that runs for a while does not count", async () => {
    const dir = makeProject(
      { "job.sh": "sleep 11; exit 2\n" },
      "process:\n  command: [sh, job.sh]\n  lifecycle: one_shot\nhealing:\n  claude: { enabled: false }\n",
    );
    const r = await run(["run"], { cwd: dir });
    expect(r.stdout).not.toContain("failed within");
    expect(readState(dir)!.startup_failures.count).toBe(0);
  });
});

describe("reset talks to a running monitor", () => {
  test("a paused run: reset lifts the pause through the inbox, the monitor relaunches the child and records it", async () => {
    const job = fs.readFileSync(path.join(FIXTURES, "jobs", "forever.sh"), "utf8");
    const dir = makeProject({ "job.sh": job }, "process:\n  command: [sh, job.sh]\n");
    const monitor = start(["run"], { cwd: dir });
    await waitFor("the child to start", () => readState(dir)?.phase === "running");
    expect((await run(["pause", "-m", "maintenance"], { cwd: dir })).code).toBe(0);
    const r = await run(["reset", "-m", "fresh start"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("reset: restarts 0 → 0 (0 in all, kept); pause lifted (monitor pid");
    const st = readState(dir)!;
    expect(st.desired).toBe("running");
    expect(st.reset_history.at(-1)).toMatchObject({
      reason: "fresh start",
      source: "manual",
      unpaused: true,
    });
    await waitFor(
      "the child to run again",
      () => readState(dir)?.phase === "running" && readState(dir)?.generation === 2,
    );
    expect(readFile(dir, ".autosentry/logs/reset.log")).toContain('reason="fresh start"');
    expect(journal(dir).some((e) => e.event === "reset")).toBe(true);
    expect((await run(["abort"], { cwd: dir })).code).toBe(0);
    expect((await monitor.wait()).code).toBe(130);
  });
});

describe("the first hour (issue 14 items 1, 19, 21)", () => {
  test("init writes no snapshot that does not exist; init twice is not refused; version and -v", async () => {
    const dir = makeProject();
    expect((await run(["init", "--non-interactive", "--command", "sh job.sh"], { cwd: dir })).code).toBe(0);
    expect(readFile(dir, ".autosentry/autosentry.yaml")).toContain("config_snapshots: []");
    const again = await run(["init", "--non-interactive"], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("left alone");
    const custom = readFile(dir, ".autosentry/autosentry.yaml").replace(
      "max_restarts: 50",
      "max_restarts: 9",
    );
    fs.writeFileSync(path.join(dir, ".autosentry/autosentry.yaml"), custom);
    expect((await run(["init", "--non-interactive"], { cwd: dir })).code).toBe(2);
    const v = (await run(["version"], { cwd: dir })).stdout;
    expect((await run(["-v"], { cwd: dir })).stdout).toBe(v);
    expect(v).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("hooks install then remove leaves no .claude/ behind", async () => {
    const dir = makeProject({}, "process:\n  command: [sleep, '1']\n");
    expect((await run(["hooks", "install"], { cwd: dir })).code).toBe(0);
    expect((await run(["hooks", "remove"], { cwd: dir })).code).toBe(0);
    expect(fs.existsSync(path.join(dir, ".claude"))).toBe(false);
  });
});

describe("onboard follows the project through its phases", () => {
  test("no config → not started → finished, with init --for-agent --install-skills local on the way", async () => {
    const dir = makeProject({ "job.sh": "echo done\n" });
    const home = makeProject();
    const env = testEnv({ HOME: home });
    const phase = async () =>
      (await run(["onboard", "--for-agent"], { cwd: dir, env })).stdout.split("\n")[0];
    expect(await phase()).toBe("phase: no_config");
    const init = await run(
      ["init", "--non-interactive", "--for-agent", "--install-skills", "local", "--command", "sh job.sh"],
      { cwd: dir, env },
    );
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("AGENT_NOTES.md");
    expect(init.stdout).toMatch(/skills \(local\): \d+ written/);
    expect(fs.existsSync(path.join(dir, ".autosentry", "program.md"))).toBe(true);
    expect(fs.existsSync(path.join(dir, ".codex", "prompts", "autosentry.md"))).toBe(true);
    expect(await phase()).toBe("phase: not_started");
    expect((await run(["run"], { cwd: dir, env })).code).toBe(0);
    const after = (await run(["onboard", "--for-agent"], { cwd: dir, env })).stdout;
    expect(after).toStartWith("phase: finished");
    expect(after).toContain("the last run ended (completed: Child completed successfully)");
    expect(after).not.toContain("autosentry skills install");
  });
});
