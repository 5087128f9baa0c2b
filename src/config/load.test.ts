// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are config text with literal ${VAR} references
import { describe, expect, test } from "bun:test";
import * as path from "node:path";
import { scratchDirs } from "../../tests/support/cli.ts";
import { ConfigError, findConfigPath, loadConfig, parseConfigText, resolveDetectorName } from "./load.ts";
import { CONFIG_TEMPLATE } from "./template.ts";

const tempProject = scratchDirs("autosentry-load-");

/** The formatted error lines for `text` (or fail when it loads). */
function errorsOf(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfigText(text, { file: "c.yaml", root: "/proj", env });
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split("\n");
    throw err;
  }
  throw new Error("expected a ConfigError");
}

const load = (text: string, env: Record<string, string> = {}) =>
  parseConfigText(text, { file: "c.yaml", root: "/proj", env }).data;

describe("errors", () => {
  test("unknown key points at the key, with a did-you-mean", () => {
    expect(errorsOf("process:\n  comand: [python]\n")).toEqual([
      'c.yaml:2:3: process.comand: unknown key (did you mean "command"?)',
    ]);
  });

  test("unknown key without a close match has no suggestion", () => {
    expect(errorsOf("zzzzzz: 1\n")).toEqual(["c.yaml:1:1: zzzzzz: unknown key"]);
  });

  test("bad enum value: expected list and the value given, at the value", () => {
    const text = [
      "detectors:",
      "  - name: oom",
      "    kind: pattern",
      "    regex: oom",
      "rules:",
      "- match:",
      "    detector: oom",
      "  action:",
      "    kind: restrat",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      'c.yaml:9:11: rules[0].action.kind: expected one of restart, restart_with_env, pause, abort, custom_command (got "restrat")',
    ]);
  });

  test("type errors say what was expected and what was given", () => {
    expect(errorsOf("monitor:\n  settle_seconds: soon\n")).toEqual([
      'c.yaml:2:19: monitor.settle_seconds: expected a number (got "soon")',
    ]);
    expect(errorsOf("process:\n  restart_policy:\n    max_restarts: 1.5\n")).toEqual([
      "c.yaml:3:19: process.restart_policy.max_restarts: expected an integer (got 1.5)",
    ]);
    expect(errorsOf("monitor: [1]\n")).toEqual(["c.yaml:1:10: monitor: expected a mapping (got a list)"]);
    expect(errorsOf("monitor:\n  process_log_max_bytes: lots\n")).toEqual([
      'c.yaml:2:26: monitor.process_log_max_bytes: expected a size in bytes: a number or a string such as 50MB (got "lots")',
    ]);
    expect(errorsOf("healing:\n  claude:\n    enabled: yes\n")).toEqual([
      'c.yaml:3:14: healing.claude.enabled: expected true, false or "auto" (got "yes")',
    ]);
  });

  test("bounds", () => {
    expect(errorsOf("process:\n  stop_grace_seconds: -1\n")).toEqual([
      "c.yaml:2:23: process.stop_grace_seconds: must be >= 0 (got -1)",
    ]);
  });

  test("a missing required key is reported at its parent", () => {
    expect(errorsOf("rules:\n  - match:\n      detector: exit_code\n")).toEqual([
      "c.yaml:2:5: rules[0].action: required key is missing",
    ]);
  });

  test("every issue is reported, in file order", () => {
    const lines = errorsOf("process:\n  comand: x\n  kind: nope\nmonitor:\n  heartbeat_seconds: 0\nfoo: 1\n");
    expect(lines).toEqual([
      'c.yaml:2:3: process.comand: unknown key (did you mean "command"?)',
      'c.yaml:3:9: process.kind: expected one of local, slurm, docker, attach (got "nope")',
      "c.yaml:5:22: monitor.heartbeat_seconds: must be > 0 (got 0)",
      "c.yaml:6:1: foo: unknown key",
    ]);
  });

  test("YAML syntax errors and duplicate keys have positions", () => {
    expect(errorsOf("process:\n  kind: local\n  kind: slurm\n")).toEqual([
      'c.yaml:3:3: duplicate key "kind"',
    ]);
    const syntax = errorsOf("process:\n  command: [a, b\nmonitor: {}\n");
    expect(syntax).toHaveLength(1);
    expect(syntax[0]).toMatch(/^c\.yaml:3:1: YAML syntax error: /);
    expect(errorsOf("a: *nope\n")).toEqual(["c.yaml:1:4: unknown alias *nope"]);
  });

  test("a badly indented key is one error at its line, with the indentation compared", () => {
    // One key too shallow used to give a burst of errors pointing at the lines after it.
    expect(errorsOf("process:\n  command: [a]\n env:\n    A: '1'\n  cwd: .\nmonitor: {}\n")).toEqual([
      "c.yaml:3:2: YAML syntax error: bad indentation: this line is indented by 1 space, line 2 above it by 2 spaces (every key of one mapping must start at the same column)",
    ]);
    expect(errorsOf("process:\n  command: [a]\n   cwd: .\n")).toEqual([
      "c.yaml:3:4: YAML syntax error: bad indentation: this line is indented by 3 spaces, line 2 above it by 2 spaces (every key of one mapping must start at the same column)",
    ]);
  });

  test("a document that is not a mapping", () => {
    expect(errorsOf("- a\n- b\n")).toEqual(["c.yaml:1:1: expected a mapping of keys (got a list)"]);
  });

  test("an invalid regex is an error at its position; Python spellings are accepted", () => {
    const text = [
      "detectors:",
      "  - kind: pattern",
      "    regex: '(?P<n>ok)'",
      "  - kind: pattern",
      "    regex: '(unclosed'",
      "redaction:",
      "  extra_patterns: ['ok', '[z-a]']",
    ].join("\n");
    const lines = errorsOf(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toStartWith("c.yaml:5:12: detectors[1].regex: invalid regular expression: ");
    expect(lines[1]).toStartWith("c.yaml:7:26: redaction.extra_patterns[1]: invalid regular expression: ");
  });

  test("duplicate detector names, explicit or defaulted", () => {
    const text = [
      "detectors:",
      "  - kind: traceback",
      "  - {kind: pattern, name: a, regex: x}",
      "  - {kind: pattern, name: a, regex: y}",
      "  - kind: traceback",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      'c.yaml:4:27: detectors[2].name: duplicate detector name "a" (detectors[1] has it too)',
      'c.yaml:5:5: detectors[3]: duplicate detector name "traceback" (detectors[0] has it too; give one of them a name)',
    ]);
  });

  test("a rule naming a detector that does not exist", () => {
    const text =
      "detectors:\n  - {name: oom, kind: pattern, regex: x}\nrules:\n  - match: {detector: om}\n    action: {kind: restart}\n";
    expect(errorsOf(text)).toEqual([
      'c.yaml:4:23: rules[0].match.detector: no detector is named "om" (did you mean "oom"?)',
    ]);
    // exit_code exists without being configured
    expect(
      load("rules:\n  - match: {detector: exit_code}\n    action: {kind: restart}\n").rules,
    ).toHaveLength(1);
    // ...unless an exit_code detector is configured under another name
    expect(
      errorsOf(
        "detectors:\n  - {kind: exit_code, name: crash}\nrules:\n  - match: {detector: exit_code}\n    action: {kind: restart}\n",
      ),
    ).toEqual(['c.yaml:4:23: rules[0].match.detector: no detector is named "exit_code" (detectors: crash)']);
  });

  test("the error message has no stack-trace text and one line per issue", () => {
    try {
      parseConfigText("a: 1\nb: 2\n", { file: "c.yaml", root: "/", env: {} });
      throw new Error("no error");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const e = err as ConfigError;
      expect(e.issues).toEqual([
        { file: "c.yaml", line: 1, col: 1, path: "a", message: "unknown key" },
        { file: "c.yaml", line: 2, col: 1, path: "b", message: "unknown key" },
      ]);
      expect(e.message).toBe("c.yaml:1:1: a: unknown key\nc.yaml:2:1: b: unknown key");
    }
  });
});

describe("values", () => {
  test("an empty file is {} and gets every default", () => {
    const data = load("");
    expect(data.process.kind).toBe("local");
    expect(data.notifiers).toEqual([
      {
        kind: "log",
        headers: {},
        timeout_seconds: 10,
        retries: 3,
        fold_window_seconds: 600,
        signature_header: "X-Autosentry-Signature",
      },
    ]);
    expect(load("# only a comment\n").monitor.settle_seconds).toBe(2);
  });

  test("argv and byte sizes accept their string forms", () => {
    const data = load(
      "process:\n  command: python 'my script.py' --lr 0.1\nmonitor:\n  process_log_max_bytes: 2MB\n",
    );
    expect(data.process.command).toEqual(["python", "my script.py", "--lr", "0.1"]);
    expect(data.monitor.process_log_max_bytes).toBe(2 * 1024 * 1024);
  });

  test("resolveDetectorName", () => {
    expect(resolveDetectorName({ kind: "pattern" }, 3)).toBe("pattern_3");
    expect(resolveDetectorName({ kind: "stall" }, 3)).toBe("stall");
    expect(resolveDetectorName({ kind: "pattern", name: "oom" }, 0)).toBe("oom");
  });
});

describe("interpolation", () => {
  const env = { SCRIPT: "train.py", EMPTY: "", DATA: "/data" };

  test("$VAR, ${VAR}, defaults and $$ in commands and env values", () => {
    const data = load(
      [
        "process:",
        "  command: [python, $SCRIPT, '${OUT:-out}', '${EMPTY:-fallback}', '${EMPTY-kept}', price=$$5]",
        "  env:",
        "    DATA_DIR: ${DATA}/x",
        "    LITERAL: $$HOME",
      ].join("\n"),
      env,
    );
    expect(data.process.command).toEqual(["python", "train.py", "out", "fallback", "", "price=$5"]);
    expect(data.process.env).toEqual({ DATA_DIR: "/data/x", LITERAL: "$HOME" });
  });

  test("a string argv is interpolated before it is split", () => {
    expect(load("process:\n  command: python $SCRIPT --x\n", env).process.command).toEqual([
      "python",
      "train.py",
      "--x",
    ]);
  });

  test("paths and URLs are interpolated and then resolved", () => {
    const data = load(
      "state_path: $DATA/state.json\nnotifiers:\n  - kind: webhook\n    url: http://127.0.0.1:${PORT:-8080}/hook\n",
      env,
    );
    expect(data.state_path).toBe("/data/state.json");
    expect(data.notifiers[0]!.url).toBe("http://127.0.0.1:8080/hook");
  });

  test("an unset variable without a default is an error at its value", () => {
    expect(errorsOf("process:\n  env:\n    A: ok\n    B: x-$NOPE\n", env)).toEqual([
      "c.yaml:4:8: process.env.B: environment variable NOPE is not set (write ${NOPE:-default} to give a default, or $$ for a literal $)",
    ]);
  });

  test("regexes and other strings are never interpolated", () => {
    const data = load(
      [
        "detectors:",
        "  - name: loss",
        "    kind: pattern",
        "    regex: 'loss=(\\d+)$NOPE'",
        "rules:",
        "  - name: $NOPE",
        "    match: {detector: loss, message_regex: 'a$'}",
        "    action: {kind: restart}",
      ].join("\n"),
      {},
    );
    expect(data.detectors[0]!.regex).toBe("loss=(\\d+)$NOPE");
    expect(data.rules[0]!.name).toBe("$NOPE");
    expect(data.rules[0]!.match.message_regex).toBe("a$");
  });

  test("uses process.env when no env is given", () => {
    const dir = tempProject({
      ".autosentry/autosentry.yaml": "process:\n  command: [echo, $AUTOSENTRY_TEST_VAR]\n",
    });
    process.env.AUTOSENTRY_TEST_VAR = "from-env";
    try {
      expect(loadConfig({ cwd: dir }).data.process.command).toEqual(["echo", "from-env"]);
    } finally {
      delete process.env.AUTOSENTRY_TEST_VAR;
    }
  });
});

describe("finding the file and the project root", () => {
  test("walks up from a subdirectory; root is the parent of .autosentry; paths are absolute", () => {
    const dir = tempProject({
      ".autosentry/autosentry.yaml": [
        "process:",
        "  cwd: work",
        "  stages:",
        "    - {name: a, command: [x], cwd: /abs/a}",
        "    - {name: b, command: [y], cwd: b}",
        "  extra: {pid_file: run/pid}",
        "config_snapshots: [configs/run.yaml]",
        "notifiers:",
        "  - kind: slack_outbox",
        "  - kind: discord_outbox",
        "  - kind: log",
        "  - {kind: slack_outbox, outbox_path: out/s.jsonl}",
      ].join("\n"),
      "src/deep/file.txt": "",
    });
    const loaded = loadConfig({ cwd: path.join(dir, "src", "deep"), env: {} });
    expect(loaded.path).toBe(path.join(dir, ".autosentry", "autosentry.yaml"));
    expect(loaded.root).toBe(dir);
    const d = loaded.data;
    expect(d.process.cwd).toBe(path.join(dir, "work"));
    expect(d.process.stages.map((s) => s.cwd)).toEqual(["/abs/a", path.join(dir, "b")]);
    expect(d.process.extra.pid_file).toBe(path.join(dir, "run", "pid"));
    expect(d.monitor.log_dir).toBe(path.join(dir, ".autosentry", "logs"));
    expect(d.state_path).toBe(path.join(dir, ".autosentry", "state.json"));
    expect(d.incidents_dir).toBe(path.join(dir, ".autosentry", "incidents"));
    expect(d.config_snapshots).toEqual([path.join(dir, "configs", "run.yaml")]);
    expect(d.notifiers.map((n) => n.outbox_path)).toEqual([
      path.join(dir, ".autosentry", "slack_outbox.jsonl"),
      path.join(dir, ".autosentry", "discord_outbox.jsonl"),
      undefined,
      path.join(dir, "out", "s.jsonl"),
    ]);
    expect(d.healing.claude.prompt_template).toBe(path.join(dir, ".autosentry", "prompts", "recovery.md"));
    expect(d.vault.path).toBe(path.join(dir, ".autosentry", "vault"));
    expect(d.dispatch.action_queue_path).toBe(path.join(dir, ".autosentry", "session_actions.jsonl"));
  });

  test("errors name the file relative to the cwd", () => {
    const dir = tempProject({ ".autosentry/autosentry.yaml": "bogus: 1\n", "sub/x": "" });
    expect(() => loadConfig({ cwd: path.join(dir, "sub") })).toThrow(
      "../.autosentry/autosentry.yaml:1:1: bogus: unknown key",
    );
  });

  test("legacy autosentry.yaml in the cwd: root is its directory", () => {
    const dir = tempProject({ "autosentry.yaml": "state_path: s.json\n" });
    const loaded = loadConfig({ cwd: dir });
    expect(loaded.path).toBe(path.join(dir, "autosentry.yaml"));
    expect(loaded.root).toBe(dir);
    expect(loaded.data.state_path).toBe(path.join(dir, "s.json"));
  });

  test(".autosentry/ wins over a legacy file; an explicit path wins over both", () => {
    const dir = tempProject({
      "autosentry.yaml": "",
      ".autosentry/autosentry.yaml": "",
      "other/custom.yaml": "incidents_dir: inc\n",
    });
    expect(findConfigPath(dir)).toBe(path.join(dir, ".autosentry", "autosentry.yaml"));
    expect(findConfigPath(dir, "other/custom.yaml")).toBe(path.join(dir, "other", "custom.yaml"));
    const loaded = loadConfig({ cwd: dir, path: "other/custom.yaml" });
    expect(loaded.root).toBe(path.join(dir, "other"));
    expect(loaded.data.incidents_dir).toBe(path.join(dir, "other", "inc"));
  });

  test("no config: an error, or the defaults with allowMissing", () => {
    const dir = tempProject();
    expect(findConfigPath(dir)).toBeNull();
    expect(() => loadConfig({ cwd: dir })).toThrow(ConfigError);
    const loaded = loadConfig({ cwd: dir, allowMissing: true });
    expect(loaded.path).toBeNull();
    expect(loaded.root).toBe(dir);
    expect(loaded.data.state_path).toBe(path.join(dir, ".autosentry", "state.json"));
  });

  test("an explicit path that does not exist is an error even with allowMissing", () => {
    const dir = tempProject();
    expect(() => loadConfig({ cwd: dir, path: "nope.yaml", allowMissing: true })).toThrow(
      "Cannot read config: nope.yaml: file not found",
    );
  });

  test("raw is the file as written", () => {
    const dir = tempProject({ ".autosentry/autosentry.yaml": "process:\n  command: [echo, $X]\n" });
    const loaded = loadConfig({ cwd: dir, env: { X: "1" } });
    expect(loaded.raw).toEqual({ process: { command: ["echo", "$X"] } });
  });
});

test("the shipped template loads without errors", () => {
  const data = load(CONFIG_TEMPLATE);
  expect(data.process.command).toEqual(["python", "train.py"]);
  expect(data.detectors.map((d, i) => resolveDetectorName(d, i))).toEqual([
    "oom",
    "nccl",
    "connection_reset",
    "traceback",
    "training_stall",
    "exit_code",
  ]);
  expect(data.rules.map((r) => r.name)).toEqual([
    "oom_halve_batch",
    "transient_restart",
    "connection_restart",
    "stall_restart",
  ]);
  expect(data.rules[0]!.action).toMatchObject({ kind: "restart_with_env", set: { BATCH_SIZE: "half" } });
  // Only files that exist are suggested: init fills them in (issue 14 item 1).
  expect(data.config_snapshots).toEqual([]);
});

describe("catastrophic regexes (issue 16, finding 5)", () => {
  test("are refused at load, each at its file:line:col and key", () => {
    const text = [
      "detectors:",
      "  - {kind: pattern, name: p1, regex: '(a+)+$'}",
      "  - {kind: pattern, name: p2, regex: '^(a|a)+$'}",
      "  - {kind: pattern, name: p3, regex: '(.*a){25}$'}",
      "  - {kind: pattern, name: p4, regex: '^(\\w+\\s?)*$'}",
      "rules:",
      "  - {name: r, match: {message_regex: '(x+x+)+y'}, action: {kind: restart}}",
    ].join("\n");
    const lines = errorsOf(text);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toStartWith(
      "c.yaml:2:38: detectors[0].regex: regex may backtrack catastrophically: nested",
    );
    expect(lines[1]).toStartWith("c.yaml:3:38: detectors[1].regex: regex may backtrack catastrophically: ");
    expect(lines[1]).toContain("overlapping alternation");
    expect(lines[2]).toStartWith("c.yaml:4:38: detectors[2].regex: regex may backtrack catastrophically: ");
    expect(lines[3]).toStartWith("c.yaml:5:38: detectors[3].regex: regex may backtrack catastrophically: ");
    expect(lines[4]).toStartWith("c.yaml:7:38: rules[0].match.message_regex: regex may backtrack");
  });

  test("the shipped config template's patterns all pass", () => {
    expect(() => load(CONFIG_TEMPLATE)).not.toThrow();
  });
});
