import { afterEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DEFAULT_HOOK_COMMAND,
  installStopHook,
  isOurHookCommand,
  readStopHook,
  removeStopHook,
  settingsFile,
} from "./hooks.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function target(settings?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "autosentry-hooks-"));
  dirs.push(dir);
  if (settings !== undefined) {
    fs.mkdirSync(path.join(dir, ".claude"));
    fs.writeFileSync(settingsFile(dir), settings);
  }
  return dir;
}

const read = (dir: string) => JSON.parse(fs.readFileSync(settingsFile(dir), "utf8"));

const OTHER = {
  permissions: { allow: ["Bash(npm test)"] },
  hooks: {
    Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }],
    PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "guard.sh" }] }],
  },
  model: "opus",
};

describe("Stop hook install/remove", () => {
  test("install into a missing file, then again: idempotent", () => {
    const dir = target();
    expect(installStopHook(dir).result).toBe("installed");
    const once = fs.readFileSync(settingsFile(dir), "utf8");
    expect(JSON.parse(once)).toEqual({
      hooks: { Stop: [{ hooks: [{ type: "command", command: DEFAULT_HOOK_COMMAND }] }] },
    });
    expect(installStopHook(dir).result).toBe("unchanged");
    expect(fs.readFileSync(settingsFile(dir), "utf8")).toBe(once);
    expect(readStopHook(dir)).toEqual({ command: DEFAULT_HOOK_COMMAND, error: null });
  });

  test("other hooks and settings are kept, in order; remove takes out only ours", () => {
    const text = `${JSON.stringify(OTHER, null, 2)}\n`;
    const dir = target(text);
    fs.chmodSync(settingsFile(dir), 0o600);
    expect(installStopHook(dir).result).toBe("installed");
    const after = read(dir);
    expect(Object.keys(after)).toEqual(["permissions", "hooks", "model"]);
    expect(after.hooks.Stop).toEqual([
      { hooks: [{ type: "command", command: "notify-send done" }] },
      { hooks: [{ type: "command", command: DEFAULT_HOOK_COMMAND }] },
    ]);
    expect(after.hooks.PreToolUse).toEqual(OTHER.hooks.PreToolUse);
    expect(fs.statSync(settingsFile(dir)).mode & 0o777).toBe(0o600);
    expect(removeStopHook(dir).result).toBe("removed");
    expect(fs.readFileSync(settingsFile(dir), "utf8")).toBe(text);
    expect(removeStopHook(dir).result).toBe("absent");
  });

  test("a changed command updates our entry in place; duplicates are folded into one", () => {
    const dir = target(
      JSON.stringify({
        hooks: {
          Stop: [
            {
              hooks: [
                { type: "command", command: "autosentry probe --inject-prompt" },
                { type: "command", command: "x" },
              ],
            },
            {
              hooks: [
                { type: "command", command: "/opt/bin/autosentry probe -c a.yaml --inject-prompt --quiet" },
              ],
            },
          ],
        },
      }),
    );
    const cmd = "/usr/local/bin/autosentry probe --inject-prompt --quiet";
    expect(installStopHook(dir, cmd).result).toBe("updated");
    expect(read(dir).hooks.Stop).toEqual([
      {
        hooks: [
          { type: "command", command: cmd },
          { type: "command", command: "x" },
        ],
      },
    ]);
    expect(installStopHook(dir, cmd).result).toBe("unchanged");
  });

  test("remove drops groups and keys that became empty", () => {
    const dir = target();
    installStopHook(dir);
    expect(removeStopHook(dir).result).toBe("removed");
    // Nothing is left behind: no `{}` file, no empty .claude/ (issue 14 item 21).
    expect(fs.existsSync(settingsFile(dir))).toBe(false);
    expect(fs.existsSync(path.join(dir, ".claude"))).toBe(false);
    expect(removeStopHook(target()).result).toBe("absent");
  });

  test("remove keeps a .claude/ that holds other files, and a settings file with other keys", () => {
    const dir = target('{"model": "opus"}');
    fs.writeFileSync(path.join(dir, ".claude", "keep.md"), "x");
    installStopHook(dir);
    expect(removeStopHook(dir).result).toBe("removed");
    expect(read(dir)).toEqual({ model: "opus" });
    const only = target();
    installStopHook(only);
    fs.writeFileSync(path.join(only, ".claude", "keep.md"), "x");
    removeStopHook(only);
    expect(fs.existsSync(settingsFile(only))).toBe(false);
    expect(fs.existsSync(path.join(only, ".claude", "keep.md"))).toBe(true);
  });

  test("an unparseable or oddly shaped settings file is left alone", () => {
    for (const bad of ["{ not json", "[1, 2]", '{"hooks": []}', '{"hooks": {"Stop": {"x": 1}}}']) {
      const dir = target(bad);
      const i = installStopHook(dir);
      expect(i.result).toBe("skipped");
      expect(i.message).toStartWith(`left ${settingsFile(dir)} alone: `);
      expect(removeStopHook(dir).result).toBe("skipped");
      expect(fs.readFileSync(settingsFile(dir), "utf8")).toBe(bad);
      expect(readStopHook(dir).error).not.toBeNull();
    }
  });

  test("which commands are ours", () => {
    expect(isOurHookCommand("autosentry probe --inject-prompt --quiet")).toBe(true);
    expect(isOurHookCommand("'/x/bun' --no-env-file '/x/main.ts' probe --inject-prompt --quiet")).toBe(true);
    expect(isOurHookCommand("autosentry probe -c cfg.yaml --inject-prompt")).toBe(true);
    expect(isOurHookCommand("autosentry probe --quiet")).toBe(false);
    expect(isOurHookCommand("notify-send")).toBe(false);
    expect(isOurHookCommand(42)).toBe(false);
  });
});
