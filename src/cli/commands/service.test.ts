import { describe, expect, setDefaultTimeout, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, scratchDirs } from "../../../tests/support/cli.ts";
import { unitName } from "./service.ts";

// Each test starts the CLI as real processes; on a loaded machine that takes seconds, not a timing claim.
setDefaultTimeout(60_000);

const tempDir = scratchDirs("autosentry-service-");
const CONFIG = "process:\n  command: [sleep, '1']\n  stop_grace_seconds: 12\n";

/** Run with a private XDG_CONFIG_HOME (the unit directory) and, optionally, more env. */
function cli(dir: string, args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync(
    [process.execPath, "--no-env-file", path.resolve(import.meta.dir, "../../../main.ts"), ...args],
    {
      cwd: dir,
      env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, "xdg"), AUTOSENTRY_DEBUG: "", ...env },
    },
  );
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe("install-service", () => {
  test("--print shows the unit: run with this config, restarted only when killed, PATH carried over", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    const r = cli(dir, ["install-service", "--print"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`WorkingDirectory=${dir}\n`);
    expect(r.out).toMatch(
      new RegExp(` run -c ${dir.replace(/[.]/g, "\\.")}/\\.autosentry/autosentry\\.yaml\\n`),
    );
    expect(r.out).toContain("Restart=on-abnormal\n");
    expect(r.out).toContain("KillMode=mixed\n");
    expect(r.out).toContain("TimeoutStopSec=42\n");
    expect(r.out).toContain("Environment=");
    expect(r.out).toContain("WantedBy=default.target\n");
    expect(fs.existsSync(path.join(dir, "xdg"))).toBe(false);
  });

  test("without systemd it refuses in one line and writes nothing", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    const r = cli(dir, ["install-service"], { AUTOSENTRY_SYSTEMD_RUN_DIR: path.join(dir, "no-systemd") });
    expect(r.code).toBe(1);
    expect(r.err).toContain("systemd is not running on this machine");
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, "xdg"))).toBe(false);
  });

  test("--no-enable writes the unit under XDG_CONFIG_HOME, idempotently; uninstall removes it", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG });
    const env = { AUTOSENTRY_SYSTEMD_RUN_DIR: path.join(dir, "no-systemd") };
    const r = cli(dir, ["install-service", "--no-enable"], env);
    expect(r.code).toBe(0);
    const file = path.join(dir, "xdg", "systemd", "user", unitName(dir));
    expect(r.out).toContain(`wrote ${file}`);
    expect(fs.readFileSync(file, "utf8")).toBe(cli(dir, ["install-service", "--print"]).out);
    expect(cli(dir, ["install-service", "--no-enable"], env).out).toContain(`unchanged: ${file}`);
    const u = cli(dir, ["uninstall-service"], env);
    expect(u.code).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    expect(cli(dir, ["uninstall-service"], env).out).toContain("nothing to remove");
  });

  test("when systemctl cannot reach a user manager, the failure is one clear line", () => {
    const dir = tempDir({ ".autosentry/autosentry.yaml": CONFIG, "fake-run/x": "" });
    if (!Bun.which("systemctl")) throw new Error("systemctl is needed for this test (apt: systemd)");
    const r = cli(dir, ["install-service"], { AUTOSENTRY_SYSTEMD_RUN_DIR: path.join(dir, "fake-run") });
    expect(r.code).toBe(1);
    expect(r.err).toStartWith("autosentry install-service: systemctl --user failed: ");
    expect(r.err).not.toContain("    at ");
  });

  test("unit names are readable and unique per directory", () => {
    expect(unitName("/home/ann/my proj")).toMatch(/^autosentry-my-proj-[0-9a-f]{8}\.service$/);
    expect(unitName("/a/x")).not.toBe(unitName("/b/x"));
  });
});

test("runCli helper still works for completion", () => {
  const r = runCli(tempDir(), ["completion", "zsh"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("autosentry complete --");
});

test("skills install: a --target that does not exist is a usage error, nothing is created", () => {
  const dir = tempDir();
  const r = runCli(dir, ["skills", "install", "--target", "nope"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("--target nope: no such directory");
  expect(fs.existsSync(path.join(dir, "nope"))).toBe(false);
});
