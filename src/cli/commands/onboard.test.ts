import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scratchDirs } from "../../../tests/support/cli.ts";
import { emptyState } from "../../monitor/state.ts";
import { procStartTime } from "../../util/proc.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-onboard-");
const CONFIG = "process:\n  command: [python, train.py]\n";
/** The CLI from source with a private HOME (global skills live there). */
function cli(dir: string, args: string[]) {
  const main = path.resolve(import.meta.dir, "../../../main.ts");
  const p = Bun.spawnSync([process.execPath, "--no-env-file", main, ...args], {
    cwd: dir,
    env: { ...process.env, HOME: path.join(dir, ".home"), XDG_CONFIG_HOME: "", AUTOSENTRY_DEBUG: "" },
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
const onboard = (dir: string, ...args: string[]) => cli(dir, ["onboard", "--for-agent", ...args]);
const writeState = (dir: string, st: object) =>
  fs.writeFileSync(path.join(dir, ".autosentry", "state.json"), JSON.stringify({ ...emptyState(), ...st }));

describe("onboard --for-agent: one phase per situation, with next steps", () => {
  test("no config → init", () => {
    const r = onboard(tempDir());
    expect(r.code).toBe(0);
    expect(r.out).toStartWith("phase: no_config\nautosentry: ");
    expect(r.out).toContain("config: none");
    expect(r.out).toContain("  - autosentry init --command");
  });

  test("a broken config → validate", () => {
    const r = onboard(tempDir({ ".autosentry/autosentry.yaml": "process:\n  comand: [x]\n" }));
    expect(r.out).toStartWith("phase: config_invalid");
    expect(r.out).toContain("autosentry config validate");
  });

  test("configured, never run → check and launch; skills hint until they are installed", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    const r = onboard(dir);
    expect(r.out).toStartWith("phase: not_started");
    expect(r.out).toContain("state: configured to supervise `python train.py`; it has not run yet");
    expect(r.out).toContain("autosentry run --check");
    expect(r.out).toContain("nohup autosentry run");
    expect(r.out).toContain("autosentry skills install");
    expect(cli(dir, ["skills", "install", "--tool", "cursor"]).code).toBe(0);
    expect(onboard(dir).out).not.toContain("autosentry skills install");
  });

  test("a finished run → incidents, analyze, reset", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    writeState(dir, {
      run_id: "r",
      phase: "gave_up",
      stop_reason: "Max restarts (5) reached",
      restarts: 5,
      restarts_total: 5,
    });
    const r = onboard(dir);
    expect(r.out).toStartWith("phase: finished");
    expect(r.out).toContain("gave_up: Max restarts (5) reached");
    expect(r.out).toContain("autosentry reset");
  });

  test("paused without a monitor → resume", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    writeState(dir, { desired: "paused" });
    expect(onboard(dir).out).toStartWith("phase: paused");
  });

  test("a live monitor → operate; a lock whose pid is reused by another process is not a monitor", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    writeState(dir, { run_id: "r", phase: "running" });
    const lock = path.join(dir, ".autosentry", "monitor.lock");
    const owner = {
      pid: process.pid,
      proc_start: procStartTime(process.pid),
      started_at: "t",
      host: os.hostname(),
    };
    fs.writeFileSync(lock, JSON.stringify(owner));
    const r = onboard(dir);
    expect(r.out).toStartWith("phase: running");
    expect(r.out).toContain(`the monitor (pid ${process.pid}) supervises`);
    fs.writeFileSync(lock, JSON.stringify({ ...owner, proc_start: "1" }));
    const gone = onboard(dir).out;
    expect(gone).toStartWith("phase: finished");
    expect(gone).toContain("no monitor runs, though state.json says running");
  });

  test("--json gives the same in a machine-readable form", () => {
    const r = cli(tempDir(), ["onboard", "--json"]);
    expect(JSON.parse(r.out)).toMatchObject({ phase: "no_config", config: null });
  });
});
