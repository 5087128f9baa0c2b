import { expect, test } from "bun:test";
import { parseDocument } from "yaml";
import { parseConfigText } from "./load.ts";
import {
  CONFIG_TEMPLATE,
  RECOVERY_PROMPT_TEMPLATE,
  renderConfigTemplate,
  SCHEMA_MODELINE,
  upgradeConfigText,
  YAML_OUTPUT_OPTIONS,
} from "./template.ts";

const load = (text: string) => parseConfigText(text, { file: "t.yaml", root: "/p", env: {} }).data;

test("the templates are embedded as text", () => {
  expect(typeof CONFIG_TEMPLATE).toBe("string");
  expect(CONFIG_TEMPLATE.split("\n")[0]).toBe(`# ${SCHEMA_MODELINE}`);
  expect(typeof RECOVERY_PROMPT_TEMPLATE).toBe("string");
  expect(RECOVERY_PROMPT_TEMPLATE.trim().length).toBeGreaterThan(0);
});

test("the template round-trips through the yaml Document API unchanged", () => {
  // Init edits the template with the Document API; this keeps the edit's diff to what changed.
  expect(parseDocument(CONFIG_TEMPLATE).toString(YAML_OUTPUT_OPTIONS)).toBe(CONFIG_TEMPLATE);
});

test("every key in the template is commented (above it, or above the sibling it is grouped with)", () => {
  const lines = CONFIG_TEMPLATE.split("\n");
  const indent = (l: string) => l.length - l.trimStart().length;
  const uncommented: string[] = [];
  let skipBelow = -1; // inside detectors, rules and subagents the section comment covers the entries
  lines.forEach((line, i) => {
    const m = /^(\s*)([a-z_]+):/.exec(line);
    if (!m) return;
    if (skipBelow >= 0 && (indent(line) > skipBelow || /^\s*- /.test(line))) return;
    skipBelow = /^\s*(detectors|rules|subagents):/.test(line) ? indent(line) : -1;
    let k = i - 1;
    // Keys of one group share the comment above the first of them (required_executables, required_env).
    while (k >= 0 && /^\s*[a-z_]+: \S/.test(lines[k]!) && indent(lines[k]!) === indent(line)) k--;
    if (!(lines[k] ?? "").trim().startsWith("#")) uncommented.push(`${i + 1}: ${line}`);
  });
  expect(uncommented).toEqual([]);
});

test("answers edit the template and keep its comments", () => {
  const text = renderConfigTemplate({
    command: ["bash", "-c", "echo hi && sleep 1"],
    snapshots: [".env", "package.json"],
  });
  const data = load(text);
  expect(data.process.command).toEqual(["bash", "-c", "echo hi && sleep 1"]);
  expect(data.config_snapshots).toEqual(["/p/.env", "/p/package.json"]);
  expect(text).toContain("# The command, as an argv list (no shell).");
  expect(text).toContain("# Files copied into every incident");
  // Only the two edited values differ from the template.
  const a = CONFIG_TEMPLATE.split("\n");
  const b = text.split("\n");
  const changed = b.filter((l) => !a.includes(l));
  // (The template's list is empty: `config_snapshots: []` becomes a block list.)
  expect(changed).toEqual([
    "  command: [bash, -c, echo hi && sleep 1]",
    "config_snapshots:",
    "  - .env",
    "  - package.json",
  ]);
  expect(load(renderConfigTemplate({ snapshots: [] })).config_snapshots).toEqual([]);
  expect(renderConfigTemplate()).toBe(CONFIG_TEMPLATE);
});

test("upgrade adds missing keys with their comments and keeps the user's values and comments", () => {
  const user = [
    "# my own header",
    "process:",
    "  # my command",
    "  command: [python, mine.py] # inline",
    "  restart_policy:",
    "    max_restarts: 3",
    "detectors:",
    "  - kind: traceback",
    "rules: []",
    "",
  ].join("\n");
  const { text, added } = upgradeConfigText(user);
  expect(added).toContain("process.kind");
  expect(added).toContain("process.restart_policy.cooldown_seconds");
  expect(added).toContain("monitor");
  expect(added).toContain("(schema modeline)");
  expect(added).not.toContain("detectors");
  expect(added).not.toContain("rules");
  expect(text.split("\n")[0]).toBe(`# ${SCHEMA_MODELINE}`);
  expect(text).toContain("# my own header");
  expect(text).toContain("  # my command\n  command: [python, mine.py] # inline");
  expect(text).toContain("# Backend: local (a child process)");
  const data = load(text);
  expect(data.process.command).toEqual(["python", "mine.py"]);
  expect(data.process.restart_policy.max_restarts).toBe(3);
  expect(data.detectors).toHaveLength(1);
  expect(data.rules).toEqual([]);
  expect(data.monitor.process_log_max_bytes).toBe(50 * 1024 * 1024);
  // Nothing left to add the second time.
  expect(upgradeConfigText(text)).toEqual({ text, added: [] });
});

test("upgrade does not add command next to stages, nor keys into the user's own maps", () => {
  const user = [
    "process:",
    "  env: {MINE: '1'}",
    "  stages:",
    "    - {name: a, command: [echo, a]}",
    "healing:",
    "  claude:",
    "    subagents: {oom: {type: x}}",
    "",
  ].join("\n");
  const { text } = upgradeConfigText(user);
  const data = load(text);
  expect(data.process.command).toEqual([]);
  expect(data.process.env).toEqual({ MINE: "1" });
  expect(Object.keys(data.healing.claude.subagents)).toEqual(["oom"]);
});

test("upgrade of an empty file gives the template's settings", () => {
  const { text } = upgradeConfigText("");
  expect(load(text)).toEqual(load(CONFIG_TEMPLATE));
});
