/**
 * End-to-end: `autosentry watch` (the compiled binary) in a real terminal, tmux: the first frame
 * shows the state and the newest incident, a resize redraws to the new size, `q` quits and leaves
 * the terminal as it was (the alternate screen is left, the cursor shown again).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { BIN, FIXTURES, incidentIds, makeProject, run, testEnv, waitFor } from "./helpers.ts";

const SOCKET = `as-watch-${process.pid}`;
const SESSION = "watch";

function tmux(...args: string[]): string {
  const r = Bun.spawnSync(["tmux", "-L", SOCKET, ...args], {
    env: testEnv(),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The visible pane, one string per row. */
const pane = () => tmux("capture-pane", "-p", "-t", SESSION).replace(/\n$/, "").split("\n");

let dir: string;
let newest: string;

beforeAll(async () => {
  dir = makeProject(
    { "job.sh": fs.readFileSync(path.join(FIXTURES, "jobs", "crash-once.sh"), "utf8") },
    "process:\n  command: [sh, job.sh]\n  restart_policy: { cooldown_seconds: 0.2 }\n",
  );
  expect((await run(["run"], { cwd: dir })).code).toBe(0);
  newest = incidentIds(dir).at(-1)!;
}, 120_000);

afterAll(() => {
  Bun.spawnSync(["tmux", "-L", SOCKET, "kill-server"], { stdout: "ignore", stderr: "ignore" });
});

describe("watch in a terminal", () => {
  test("first frame, resize, and q restores the terminal", async () => {
    // A shell prints a marker first: after quitting, the pane must show it again (alternate screen left).
    const script = `printf 'BEFORE-WATCH\\n'; ${BIN} watch --refresh 0.25; printf 'WATCH-EXIT=%s\\n' $?; sleep 60`;
    tmux("new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24", "-c", dir, "sh", "-c", script);
    const first = await waitFor("the first frame", () => {
      const rows = pane();
      return rows.some((l) => l.includes("autosentry watch")) && rows.some((l) => l.includes("q quit"))
        ? rows
        : null;
    });
    const text = first.join("\n");
    expect(text).toContain("phase completed");
    expect(text).toContain("restarts 1/50 (1 in all)");
    expect(text).toContain("newest incidents (1 in all)");
    expect(text).toContain("process exited with code 3");
    expect(first.length).toBe(24);
    expect(first.every((l) => l.length <= 80)).toBe(true);
    expect(first[23]).toContain("q quit");
    expect(text).not.toContain("BEFORE-WATCH");

    // A change on disk (a pause recorded with no monitor running) is redrawn without a key press.
    expect((await run(["pause"], { cwd: dir })).code).toBe(0);
    await waitFor("the redraw after the pause", () => pane().some((l) => l.includes("(pause requested)")));
    expect((await run(["resume"], { cwd: dir })).code).toBe(0);

    // Wider: the incident id column appears, and the footer moves to the new last row.
    tmux("resize-window", "-t", SESSION, "-x", "140", "-y", "40");
    const wide = await waitFor("a redraw at 140x40", () => {
      const rows = pane();
      return rows.length === 40 && rows[39]!.includes("q quit") && rows.some((l) => l.includes(newest))
        ? rows
        : null;
    });
    expect(wide.some((l) => l.includes("── log tail"))).toBe(true);

    tmux("send-keys", "-t", SESSION, "q");
    const after = await waitFor("watch to exit", () => {
      const rows = pane();
      return rows.some((l) => l.includes("WATCH-EXIT=")) ? rows : null;
    });
    const out = after.join("\n");
    expect(out).toContain("WATCH-EXIT=0");
    expect(out).toContain("BEFORE-WATCH");
    expect(out).not.toContain("q quit");
    // The cursor is visible again (tmux reports cursor_flag 1).
    expect(tmux("display-message", "-p", "-t", SESSION, "#{cursor_flag}").trim()).toBe("1");
  });

  test("--once prints one plain frame; NO_COLOR and a pipe mean no escape codes", async () => {
    const r = await run(["watch", "--once"], { cwd: dir, env: testEnv({ NO_COLOR: "1" }) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(newest.slice(0, 10));
    expect(r.stdout).toContain("phase completed");
    expect(r.stdout).not.toContain("\x1b");
  });

  test("--root: every project under DIR, one line each with its phase and newest incident", async () => {
    const holder = makeProject();
    fs.cpSync(dir, path.join(holder, "alpha"), { recursive: true });
    fs.mkdirSync(path.join(holder, "beta", ".autosentry"), { recursive: true });
    fs.writeFileSync(
      path.join(holder, "beta", ".autosentry", "autosentry.yaml"),
      "process:\n  command: [sh, -c, 'exit 0']\n",
    );
    const r = await run(["watch", "--once", "--root", holder], {
      cwd: holder,
      env: testEnv({ NO_COLOR: "1" }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("2 projects under");
    const alpha = r.stdout.split("\n").find((l) => l.startsWith("alpha"));
    expect(alpha).toContain("completed");
    expect(alpha).toContain("process exited with code 3");
    const beta = r.stdout.split("\n").find((l) => l.startsWith("beta"));
    expect(beta).toContain("never run");
    expect(beta).toContain("no incidents");
  });
});
