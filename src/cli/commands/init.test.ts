import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, scratchDirs } from "../../../tests/support/cli.ts";
import { parseConfigText } from "../../config/load.ts";
import { CONFIG_TEMPLATE, RECOVERY_PROMPT_TEMPLATE } from "../../config/template.ts";
import { detectStack, type InitOptions, runInit } from "./init.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-init-");
const cli = (cwd: string, args: string[], stdin = "") => runCli(cwd, ["init", ...args], stdin);

/** Run init in-process with answers given as lines. */
async function inProcess(cwd: string, opts: Partial<InitOptions>, answers: string[] = []) {
  let out = "";
  let err = "";
  const code = await runInit(
    { target: ".", force: false, upgrade: false, interactive: false, nonInteractive: false, ...opts },
    {
      cwd,
      input: () => new Blob([answers.map((a) => `${a}\n`).join("")]).stream(),
      isTTY: false,
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
    },
  );
  return { code, out, err };
}

const cfgOf = (dir: string) => path.join(dir, ".autosentry", "autosentry.yaml");
const read = (p: string) => fs.readFileSync(p, "utf8");
const loadData = (dir: string) => parseConfigText(read(cfgOf(dir)), { file: "c", root: dir, env: {} }).data;

describe("non-interactive", () => {
  test("scaffolds .autosentry/ in an empty directory", () => {
    const dir = tempDir();
    const r = cli(dir, ["--non-interactive"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const a = path.join(dir, ".autosentry");
    expect(read(path.join(a, "autosentry.yaml"))).toBe(CONFIG_TEMPLATE);
    expect(read(path.join(a, ".gitignore"))).toBe("*\n");
    expect(read(path.join(a, "prompts", "recovery.md"))).toBe(RECOVERY_PROMPT_TEMPLATE);
    expect(fs.statSync(path.join(a, "incidents")).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(a, "logs")).isDirectory()).toBe(true);
    const schema = JSON.parse(read(path.join(a, "autosentry.schema.json")));
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(r.out).toContain("wrote .autosentry/autosentry.yaml");
    expect(r.out).toContain("Next steps:");
    expect(r.out).toContain("autosentry run");
  });

  test("without a terminal it asks nothing even without --non-interactive", () => {
    const dir = tempDir();
    const r = cli(dir, [], "this would be an answer\n");
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("Command to supervise");
    expect(read(cfgOf(dir))).toBe(CONFIG_TEMPLATE);
  });

  test("--command sets process.command, keeping the comments", async () => {
    const dir = tempDir();
    const r = await inProcess(dir, { nonInteractive: true, command: "python 'my train.py' --lr 0.1" });
    expect(r.code).toBe(0);
    expect(loadData(dir).process.command).toEqual(["python", "my train.py", "--lr", "0.1"]);
    expect(read(cfgOf(dir))).toContain("# The command, as an argv list");
    // The same command again: nothing to do.
    const again = await inProcess(dir, { nonInteractive: true, command: "python 'my train.py' --lr 0.1" });
    expect(again.code).toBe(0);
    expect(again.out).toContain("left alone");
  });

  test("an unchanged config is left alone", async () => {
    const dir = tempDir();
    await inProcess(dir, { nonInteractive: true });
    const before = fs.statSync(cfgOf(dir)).mtimeMs;
    const r = await inProcess(dir, { nonInteractive: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain("already what init would write: left alone");
    expect(fs.statSync(cfgOf(dir)).mtimeMs).toBe(before);
  });

  test("a customised config is refused without --force, overwritten with it", async () => {
    const dir = tempDir();
    await inProcess(dir, { nonInteractive: true });
    const custom = CONFIG_TEMPLATE.replace("max_restarts: 50", "max_restarts: 7");
    fs.writeFileSync(cfgOf(dir), custom);
    const refused = await inProcess(dir, { nonInteractive: true });
    // A refusal is a usage error (issue 14 item 19).
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("already exists and has been customised");
    expect(refused.err).toContain("--upgrade");
    expect(read(cfgOf(dir))).toBe(custom);
    // A different --command does not make it overwritable either.
    expect((await inProcess(dir, { nonInteractive: true, command: "x" })).code).toBe(2);

    const forced = await inProcess(dir, { nonInteractive: true, force: true });
    expect(forced.code).toBe(0);
    expect(forced.out).toContain("overwrote .autosentry/autosentry.yaml");
    expect(read(cfgOf(dir))).toBe(CONFIG_TEMPLATE);
  });

  test("an untouched template may be replaced by a different --command", async () => {
    const dir = tempDir();
    await inProcess(dir, { nonInteractive: true });
    const r = await inProcess(dir, { nonInteractive: true, command: "make train" });
    expect(r.code).toBe(0);
    expect(loadData(dir).process.command).toEqual(["make", "train"]);
  });

  test("an existing recovery prompt and .gitignore are kept, even with --force", async () => {
    const dir = tempDir({
      ".autosentry/prompts/recovery.md": "my prompt\n",
      ".autosentry/.gitignore": "*\n!autosentry.yaml\n",
    });
    const r = await inProcess(dir, { nonInteractive: true, force: true });
    expect(r.code).toBe(0);
    expect(read(path.join(dir, ".autosentry", "prompts", "recovery.md"))).toBe("my prompt\n");
    expect(read(path.join(dir, ".autosentry", ".gitignore"))).toBe("*\n!autosentry.yaml\n");
  });

  test("--upgrade adds new keys and keeps the user's values and comments", async () => {
    const dir = tempDir({
      ".autosentry/autosentry.yaml": "# mine\nprocess:\n  command: [make, run] # keep me\n",
    });
    const r = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain("upgraded .autosentry/autosentry.yaml: added process.kind");
    const text = read(cfgOf(dir));
    expect(text).toContain("# mine");
    expect(text).toContain("command: [make, run] # keep me");
    expect(text).toContain("# Where autosentry keeps its state");
    expect(loadData(dir).process.command).toEqual(["make", "run"]);
    expect(loadData(dir).detectors).toHaveLength(6);
    const again = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(again.out).toContain("already has every key of the template");
  });

  test("a broken config is not upgraded", async () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": "process: [\n" });
    const r = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(r.code).toBe(2);
    expect(r.err).toContain("Cannot upgrade .autosentry/autosentry.yaml");
    expect(read(cfgOf(dir))).toBe("process: [\n");
  });
});

describe("init's own output is not a customised config (issue 14 item 19)", () => {
  test("init --command, then plain init: left alone with exit 0, not refused", async () => {
    const dir = tempDir();
    expect((await inProcess(dir, { nonInteractive: true, command: "python x.py" })).code).toBe(0);
    const written = read(cfgOf(dir));
    const again = cli(dir, ["--non-interactive"]);
    expect(again.err).toBe("");
    expect(again.code).toBe(0);
    expect(again.out).toContain("left alone");
    expect(read(cfgOf(dir))).toBe(written);
    // A new --command replaces init's own output: nothing of the user's is lost.
    const other = await inProcess(dir, { nonInteractive: true, command: "python y.py" });
    expect(other.code).toBe(0);
    expect(loadData(dir).process.command).toEqual(["python", "y.py"]);
  });

  test("interactive init twice: the second one asks again and writes", async () => {
    const dir = tempDir({ "configs/run.yaml": "lr: 1\n" });
    expect((await inProcess(dir, { interactive: true }, ["python a.py", "y"])).code).toBe(0);
    const r = await inProcess(dir, { interactive: true }, ["python b.py", "n"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(loadData(dir).process.command).toEqual(["python", "b.py"]);
    expect(loadData(dir).config_snapshots).toEqual([]);
  });
});

describe("snapshots suggested only when they exist (issue 14 item 1)", () => {
  test("an empty project gets no snapshots", async () => {
    const dir = tempDir();
    await inProcess(dir, { nonInteractive: true });
    expect(loadData(dir).config_snapshots).toEqual([]);
  });

  test("existing run configs are filled in; .env and package metadata are not", async () => {
    const dir = tempDir({
      "configs/train.yaml": "",
      "config.yaml": "",
      ".env": "A=1\n",
      "pyproject.toml": "",
    });
    const r = await inProcess(dir, { nonInteractive: true });
    expect(r.code).toBe(0);
    expect(loadData(dir).config_snapshots).toEqual([
      path.join(dir, "configs/train.yaml"),
      path.join(dir, "config.yaml"),
    ]);
    // and the same init again is a no-op
    expect((await inProcess(dir, { nonInteractive: true })).out).toContain("already what init would write");
  });
});

describe("--for-agent, --install-skills, --upgrade refreshing old defaults", () => {
  test("--for-agent writes AGENT_NOTES.md and program.md, and never overwrites them", async () => {
    const dir = tempDir({ ".autosentry/program.md": "my mission\n" });
    const r = await inProcess(dir, { nonInteractive: true, forAgent: true });
    expect(r.code).toBe(0);
    expect(read(path.join(dir, ".autosentry", "AGENT_NOTES.md"))).toContain("autosentry run --check");
    expect(read(path.join(dir, ".autosentry", "program.md"))).toBe("my mission\n");
    expect(r.out).toContain(".autosentry/AGENT_NOTES.md");
    expect(fs.existsSync(path.join(tempDir(), ".autosentry", "AGENT_NOTES.md"))).toBe(false);
  });

  test("--install-skills local installs every tool's skills and the Stop hook; global goes under HOME", async () => {
    const dir = tempDir();
    const home = tempDir();
    const r = await inProcess(dir, {
      nonInteractive: true,
      installSkills: "local",
      env: { HOME: home, PATH: "" },
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/skills \(local\): \d+ written/);
    expect(fs.existsSync(path.join(dir, ".claude", "commands", "autosentry.md"))).toBe(true);
    expect(fs.existsSync(path.join(dir, ".claude", "settings.local.json"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "AGENTS.md"))).toBe(true);
    const g = await inProcess(tempDir(), {
      nonInteractive: true,
      installSkills: "global",
      env: { HOME: home, PATH: "" },
    });
    expect(g.code).toBe(0);
    expect(fs.existsSync(path.join(home, ".codex", "prompts", "autosentry.md"))).toBe(true);
    const bad = await inProcess(tempDir(), { nonInteractive: true, installSkills: "everywhere" as "local" });
    expect(bad.code).toBe(2);
  });

  test("--install-skills ask asks on a terminal only, and installs what is answered", async () => {
    const dir = tempDir();
    const home = tempDir();
    const r = await inProcess(dir, { interactive: true, env: { HOME: home, PATH: "" } }, [
      "make run",
      "local",
    ]);
    expect(r.out).toContain("Install the /autosentry skills");
    expect(fs.existsSync(path.join(dir, ".cursor", "commands", "autosentry.md"))).toBe(true);
    const quiet = await inProcess(tempDir(), { nonInteractive: true });
    expect(quiet.out).not.toContain("skills");
  });

  test("--upgrade refreshes a value still at an old default, keeps comments and changed values", async () => {
    const user = [
      "# my project",
      "process:",
      "  command: [make, run] # keep me",
      "  restart_policy:",
      "    # how often",
      "    max_restarts: 10 # the old default",
      "    cooldown_seconds: 7",
      "healing:",
      "  budget:",
      "    max_attempts_per_detector_per_hour: 9",
      "",
    ].join("\n");
    const dir = tempDir({ ".autosentry/autosentry.yaml": user });
    const r = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain("refreshed old defaults process.restart_policy.max_restarts 10 → 50");
    const text = read(cfgOf(dir));
    expect(text).toContain("    # how often\n    max_restarts: 50 # the old default\n");
    expect(text).toContain("    cooldown_seconds: 7\n");
    expect(text).toContain("command: [make, run] # keep me");
    expect(text).toContain("# my project");
    const data = loadData(dir);
    expect(data.healing.budget.max_attempts_per_detector_per_hour).toBe(9);
    expect(data.process.restart_policy.cooldown_seconds).toBe(7);
    const again = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(again.out).toContain("left alone");
  });
});

test("--upgrade on a terminal asks before refreshing each old default; n keeps it", async () => {
  const user =
    "process:\n  command: [make]\n  restart_policy:\n    max_restarts: 10\nhealing:\n  budget:\n    max_attempts_per_detector_per_hour: 5\n";
  const dir = tempDir({ ".autosentry/autosentry.yaml": user });
  const r = await inProcess(dir, { interactive: true, upgrade: true }, ["n", "y"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain(
    "process.restart_policy.max_restarts is 10, an old default; the default is now 50. Refresh it? [Y/n/a]: n",
  );
  const data = loadData(dir);
  expect(data.process.restart_policy.max_restarts).toBe(10);
  expect(data.healing.budget.max_attempts_per_detector_per_hour).toBe(60);
});

describe("legacy autosentry.yaml in the project root", () => {
  const legacy = "process:\n  command: [python, old.py]\n";

  test("is refused without --upgrade or --force", async () => {
    const dir = tempDir({ "autosentry.yaml": legacy });
    const r = await inProcess(dir, { nonInteractive: true });
    expect(r.code).toBe(2);
    expect(r.err).toContain("legacy autosentry.yaml");
    expect(fs.existsSync(cfgOf(dir))).toBe(false);
  });

  test("--upgrade moves it into .autosentry/ and adds the new keys", async () => {
    const dir = tempDir({ "autosentry.yaml": legacy });
    const r = await inProcess(dir, { nonInteractive: true, upgrade: true });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, "autosentry.yaml"))).toBe(false);
    expect(loadData(dir).process.command).toEqual(["python", "old.py"]);
    expect(read(cfgOf(dir))).toContain("# How autosentry itself runs.");
    expect(r.out).toContain("moved autosentry.yaml to .autosentry/autosentry.yaml");
  });

  test("--force writes a fresh config and leaves the legacy file alone", async () => {
    const dir = tempDir({ "autosentry.yaml": legacy });
    const r = await inProcess(dir, { nonInteractive: true, force: true });
    expect(r.code).toBe(0);
    expect(read(cfgOf(dir))).toBe(CONFIG_TEMPLATE);
    expect(read(path.join(dir, "autosentry.yaml"))).toBe(legacy);
    expect(r.out).toContain("autosentry.yaml is now ignored");
  });
});

describe("interactive", () => {
  test("--interactive reads answers from piped stdin", () => {
    const dir = tempDir({ "pyproject.toml": "", "main.py": "", ".env": "A=1\n", "configs/run.yaml": "" });
    // command: accept the suggestion; .env: yes; configs/run.yaml: no; pyproject.toml: (default no)
    const r = cli(dir, ["--interactive"], "\ny\nn\n\n");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Detected a Python project (pyproject.toml).");
    expect(r.out).toContain("Command to supervise [python main.py]: ");
    expect(r.out).toContain("Copy .env (redacted) into every incident? It usually holds secrets");
    const data = loadData(dir);
    expect(data.process.command).toEqual(["python", "main.py"]);
    expect(data.config_snapshots).toEqual([path.join(dir, ".env")]);
    expect(read(cfgOf(dir))).toContain("# Files copied into every incident");
  });

  test("a typed command; end of input answers the rest with their defaults", async () => {
    const dir = tempDir({ "package.json": "{}", "config.yaml": "" });
    const r = await inProcess(dir, { interactive: true }, ["node server.js --port '3000'"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Command to supervise [npm start]: node server.js --port '3000'\n");
    const data = loadData(dir);
    expect(data.process.command).toEqual(["node", "server.js", "--port", "3000"]);
    expect(data.config_snapshots).toEqual([]);
  });

  test("--command skips the command question", async () => {
    const dir = tempDir({ "package.json": "{}" });
    const r = await inProcess(dir, { interactive: true, command: "npm run train" }, ["yes"]);
    expect(r.out).not.toContain("Command to supervise");
    const data = loadData(dir);
    expect(data.process.command).toEqual(["npm", "run", "train"]);
    expect(data.config_snapshots).toEqual([path.join(dir, "package.json")]);
  });

  test("a customised config is refused before any question is asked", async () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": "process:\n  command: [mine]\n" });
    const r = await inProcess(dir, { interactive: true }, ["other"]);
    expect(r.code).toBe(2);
    expect(r.out).not.toContain("Command to supervise");
    expect(read(cfgOf(dir))).toBe("process:\n  command: [mine]\n");
  });
});

describe("usage", () => {
  test("--interactive with --non-interactive is a usage error", async () => {
    const r = await inProcess(tempDir(), { interactive: true, nonInteractive: true });
    expect(r.code).toBe(2);
  });

  test("TARGET names the project directory; a missing one is an error", async () => {
    const dir = tempDir({ "proj/x": "" });
    const r = await inProcess(dir, { nonInteractive: true, target: "proj" });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, "proj", ".autosentry", "autosentry.yaml"))).toBe(true);
    expect(r.out).toContain("1. cd proj");
    const missing = await inProcess(dir, { nonInteractive: true, target: "nope" });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("Cannot init: nope: no such directory");
  });

  test("an empty --command is a usage error", async () => {
    expect((await inProcess(tempDir(), { nonInteractive: true, command: "  " })).code).toBe(2);
  });
});

test("detectStack", () => {
  expect(detectStack(tempDir({ "setup.py": "" }))?.command).toBe("python train.py");
  expect(detectStack(tempDir({ "pyproject.toml": "", "run.py": "" }))?.command).toBe("python run.py");
  expect(detectStack(tempDir({ "package.json": "{}" }))?.command).toBe("npm start");
  expect(detectStack(tempDir({ "Cargo.toml": "" }))?.command).toBe("cargo run");
  expect(detectStack(tempDir({ "go.mod": "" }))?.command).toBe("go run .");
  expect(detectStack(tempDir({ Gemfile: "", "bin/rails": "" }))?.command).toBe("bundle exec rails server");
  expect(detectStack(tempDir({ Gemfile: "" }))?.command).toBe("bundle exec rake");
  expect(detectStack(tempDir())).toBeNull();
});
