import { describe, expect, test } from "bun:test";
import * as path from "node:path";
import { parse } from "yaml";
import { runCli, scratchDirs } from "../../../tests/support/cli.ts";
import { CONFIG_TEMPLATE } from "../../config/template.ts";

const tempDir = scratchDirs("autosentry-config-");
const cli = (cwd: string, ...args: string[]) => runCli(cwd, ["config", ...args]);

test("config schema prints the JSON Schema", () => {
  const r = cli(tempDir(), "schema");
  expect(r.code).toBe(0);
  const schema = JSON.parse(r.out);
  expect(schema.$id).toBe("urn:autosentry:config");
  expect(Object.keys(schema.properties)).toContain("detectors");
});

describe("config validate", () => {
  test("a good config: ok with counts, from a subdirectory too", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG_TEMPLATE, "src/x": "" });
    const r = cli(dir, "validate");
    expect(r).toEqual({ code: 0, out: "ok: .autosentry/autosentry.yaml (6 detectors, 4 rules)\n", err: "" });
    expect(cli(path.join(dir, "src"), "validate").out).toBe(
      `ok: ${path.join(dir, ".autosentry", "autosentry.yaml")} (6 detectors, 4 rules)\n`,
    );
  });

  test("errors go to stderr, one line each, exit code 2, no stack trace", () => {
    const dir = tempDir({
      ".autosentry/autosentry.yaml":
        "process:\n  comand: [x]\nrules:\n  - match: {detector: exit_code}\n    action: {kind: restrat}\n",
    });
    const r = cli(dir, "validate");
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      [
        '.autosentry/autosentry.yaml:2:3: process.comand: unknown key (did you mean "command"?)',
        '.autosentry/autosentry.yaml:5:20: rules[0].action.kind: expected one of restart, restart_with_env, pause, abort, custom_command (got "restrat")',
        "",
      ].join("\n"),
    );
  });

  test("-c names the file; it is shown as given", () => {
    const dir = tempDir({ "conf/mine.yaml": "detectors:\n  - kind: traceback\n" });
    expect(cli(dir, "validate", "-c", "conf/mine.yaml").out).toBe(
      // The monitor adds an exit_code detector when none is configured: it counts (issue 14 item 10).
      "ok: conf/mine.yaml (2 detectors (exit_code implied), 0 rules)\n",
    );
    const missing = cli(dir, "validate", "--config", "conf/nope.yaml");
    expect(missing.code).toBe(2);
    expect(missing.err).toBe("Cannot read config: conf/nope.yaml: file not found\n");
  });

  test("a config with only a command has the implied exit_code detector, not 0 detectors", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": "process:\n  command: [sleep, '1']\n" });
    expect(cli(dir, "validate").out).toBe(
      "ok: .autosentry/autosentry.yaml (1 detector (exit_code implied), 0 rules)\n",
    );
  });

  test("no config at all is an error that says how to create one", () => {
    const r = cli(tempDir(), "validate");
    expect(r.code).toBe(2);
    expect(r.err).toContain("Cannot read config: no .autosentry/autosentry.yaml in");
    expect(r.err).toContain("autosentry init");
  });
});

describe("config show", () => {
  test("prints the effective config as YAML: defaults filled, paths absolute", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": "process:\n  command: python t.py\n" });
    const r = cli(dir, "show");
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe(
      `# effective config of .autosentry/autosentry.yaml (project root ${dir})`,
    );
    const shown = parse(r.out);
    expect(shown.process.command).toEqual(["python", "t.py"]);
    expect(shown.process.restart_policy.max_restarts).toBe(50);
    expect(shown.state_path).toBe(path.join(dir, ".autosentry", "state.json"));
  });

  test("without a config file it shows the defaults; --json prints JSON", () => {
    const dir = tempDir();
    const r = cli(dir, "show");
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("# no config file found: the defaults");
    expect(parse(r.out).monitor.settle_seconds).toBe(2);
    expect(JSON.parse(cli(dir, "show", "--json").out).incidents_dir).toBe(
      path.join(dir, ".autosentry", "incidents"),
    );
  });

  test("a bad config is reported like validate does", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": "monitor: {settle_seconds: x}\n" });
    const r = cli(dir, "show");
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      '.autosentry/autosentry.yaml:1:27: monitor.settle_seconds: expected a number (got "x")\n',
    );
  });
});
