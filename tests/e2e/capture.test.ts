/**
 * The capture process the compiled binary starts (issue 13): the native helper it embeds, written
 * out to the cache directory, or, where that cannot be executed, the Bun shim, said in the log and
 * in `doctor`. The other local-supervision e2e tests (monitor-down, signals, chaos) run with
 * whichever the build chose, which on Linux with gcc is the native helper.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BIN, makeProject, readFile, readState, run, start, testEnv, waitFor } from "./helpers.ts";

const CONFIG = "process:\n  command: [sh, -c, 'echo started; exec sleep 1000']\n";

// A real noexec filesystem (the suite runs as root, as `npm test` needs anyway).
let noexec = "";
beforeAll(() => {
  noexec = fs.mkdtempSync(path.join(os.tmpdir(), "as-e2e-noexec-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64m,noexec", "tmpfs", noexec]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()} (run as root)`);
});
afterAll(() => {
  Bun.spawnSync(["umount", "-l", noexec]);
  fs.rmSync(noexec, { recursive: true, force: true });
});

function exeOf(pid: number): string {
  return fs.readlinkSync(`/proc/${pid}/exe`);
}

async function supervise(dir: string, env: Record<string, string>) {
  const mon = start(["run"], { cwd: dir, env });
  const st = await waitFor(
    "the child's first line",
    () => {
      const s = readState(dir);
      return s?.child?.details?.shimPid && readFile(dir, ".autosentry/logs/process.log").includes("started\n")
        ? s
        : null;
    },
    60_000,
  );
  return { mon, shimPid: st.child.details.shimPid as number, state: st };
}

test("the compiled binary runs its child under the embedded native helper, written out to the cache", async () => {
  const dir = makeProject({}, CONFIG);
  const cache = path.join(dir, ".cache");
  const env = testEnv({ XDG_CACHE_HOME: cache });
  const doc = await run(["doctor", "--json"], { cwd: dir, env });
  const row = (JSON.parse(doc.stdout) as { name: string; level: string; detail: string }[]).find(
    (r) => r.name === "capture process",
  );
  expect(row).toMatchObject({ level: "ok" });
  expect(row!.detail).toStartWith(`native helper (${path.join(cache, "autosentry", "capture-")}`);
  const { mon, shimPid, state } = await supervise(dir, env);
  try {
    expect(exeOf(shimPid)).toStartWith(path.join(cache, "autosentry", "capture-"));
    expect(state.child.details.capture).toBe("native");
    const log = readFile(dir, ".autosentry/logs/autosentry.log");
    expect(log).toContain(`Capture process: native helper (${path.join(cache, "autosentry", "capture-")}`);
    const status = JSON.parse((await run(["status", "--json"], { cwd: dir, env })).stdout);
    expect(status.state.child.details.capture).toBe("native");
  } finally {
    await run(["abort"], { cwd: dir, env });
    await mon.wait(60_000);
  }
  expect(fs.existsSync(`/proc/${shimPid}`)).toBe(false);
}, 180_000);

test("where the helper cannot be executed (noexec cache and project), the Bun shim runs the child and the log and doctor say why", async () => {
  const dir = fs.mkdtempSync(path.join(noexec, "proj-"));
  fs.mkdirSync(path.join(dir, ".autosentry"), { recursive: true });
  fs.writeFileSync(path.join(dir, ".autosentry", "autosentry.yaml"), CONFIG);
  const env = testEnv({ XDG_CACHE_HOME: path.join(noexec, "cache") });
  const doc = await run(["doctor", "--json"], { cwd: dir, env });
  const row = (JSON.parse(doc.stdout) as { name: string; level: string; detail: string }[]).find(
    (r) => r.name === "capture process",
  );
  expect(row).toMatchObject({ level: "warn" });
  expect(row!.detail).toMatch(/^Bun shim \(cannot execute .*noexec/);
  const { mon, shimPid, state } = await supervise(dir, env);
  try {
    expect(fs.realpathSync(exeOf(shimPid))).toBe(fs.realpathSync(BIN));
    expect(state.child.details.capture).toBe("bun");
    const said = readFile(dir, ".autosentry/logs/autosentry.log")
      .split("\n")
      .filter((l) => l.includes("Capture process: "));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/Capture process: Bun shim \(cannot execute .*noexec/);
  } finally {
    await run(["abort"], { cwd: dir, env });
    await mon.wait(60_000);
  }
}, 180_000);
