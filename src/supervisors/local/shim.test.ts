import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { groupMembers, pidAlive } from "../../util/proc.ts";
import { parseShimExit, shimArgs } from "./protocol.ts";
import { capturesUnderTest } from "./test-capture-impls.ts";

/**
 * The capture process under test: every test runs against both implementations (the Bun shim and
 * the native helper, test-capture-impls.ts). `AUTOSENTRY_TEST_SELF=dist/autosentry bun test …` runs
 * the Bun shim of the compiled binary.
 */
let self: string[] = [];

let dir: string;
let groups: number[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "shim-"));
  groups = [];
});
afterEach(() => {
  for (const g of groups) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const logFile = () => path.join(dir, "process.log");
const exitFile = () => path.join(dir, "exit.json");

function shim(script: string, logMaxBytes = 100_000_000) {
  const p = Bun.spawn(
    [
      ...self,
      "__shim",
      ...shimArgs({
        generation: 1,
        logPath: logFile(),
        exitFile: exitFile(),
        maxLineLength: 1000,
        logMaxBytes,
        logBackups: 1,
        argv: ["sh", "-c", script],
      }),
    ],
    { cwd: dir, stdout: "pipe", stderr: "inherit", detached: true, env: { PATH: process.env["PATH"] ?? "" } },
  );
  groups.push(p.pid);
  return p;
}

/** Read frames until `until` matches one; returns all frames read. */
async function readFrames(
  reader: { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> },
  until: (f: string) => boolean,
): Promise<string[]> {
  const frames: string[] = [];
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done || value === undefined) return frames;
    buf += dec.decode(value, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const f = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      frames.push(f);
      if (until(f)) return frames;
      nl = buf.indexOf("\n");
    }
  }
}

// biome-ignore format: the tests keep their indentation inside the loop (a small diff to merge)
for (const impl of capturesUnderTest()) describe(`capture: ${impl.name}`, () => {
beforeEach(() => {
  self = impl.self();
});

test("the last Z frame covers process.log exactly; X carries the exit; the shim exits with the child's code", async () => {
  const p = shim("echo a; echo b >&2; exit 4");
  const frames = await readFrames(p.stdout.getReader(), () => false);
  expect(await p.exited).toBe(4);
  expect(frames[0]).toMatch(/^P\d+$/);
  const x = parseShimExit(frames.at(-1)!.slice(1))!;
  expect(x).toMatchObject({ generation: 1, code: 4, signal: null, leftovers: 0 });
  const z = frames.at(-2)!;
  const st = fs.statSync(logFile());
  expect(z).toBe(`Z${st.ino}:${st.size}`);
  expect(parseShimExit(fs.readFileSync(exitFile(), "utf8"))).toEqual(x);
  expect(frames.filter((f) => f.startsWith("O") || f.startsWith("E")).sort()).toEqual(["Eb", "Oa"]);
});

test("the child starts with default signal dispositions and only stdin/stdout/stderr open", async () => {
  const p = shim("grep SigIgn /proc/$$/status; ls /proc/$$/fd");
  const frames = await readFrames(p.stdout.getReader(), () => false);
  await p.exited;
  const out = frames.filter((f) => f.startsWith("O")).map((f) => f.slice(1));
  // Bun ignores SIGPIPE itself; the child must not inherit that.
  expect(out).toEqual(["SigIgn:\t0000000000000000", "0", "1", "2"]);
});

test("a stuck monitor never blocks the child; what did not fit is counted in a D frame", async () => {
  // ~40 MB of lines: far more than the socket buffer plus the shim's 8 MB queue. Bun reads a
  // subprocess pipe by itself whenever the event loop runs, so a stuck monitor is a blocked loop.
  const p = shim("seq 1 5000000; echo finished");
  const end = Date.now() + 60_000;
  while (!fs.existsSync(exitFile()) && Date.now() < end) Bun.sleepSync(50);
  expect(fs.existsSync(exitFile())).toBe(true);
  const log = fs.readFileSync(logFile(), "utf8");
  expect(log).toContain("\n5000000\nfinished\n");
  const frames = await readFrames(p.stdout.getReader(), () => false);
  expect(await p.exited).toBe(0);
  const dropped = frames.filter((f) => f.startsWith("D")).reduce((n, f) => n + Number(f.slice(1)), 0);
  const forwarded = frames.filter((f) => f.startsWith("O")).length;
  expect(dropped).toBeGreaterThan(0);
  // Every line is either forwarded or counted as dropped.
  expect(dropped + forwarded).toBe(5_000_001);
  expect(frames.at(-1)).toStartWith("X");
}, 90_000);

test("after the monitor's end of the pipe closes, the shim keeps logging and records the exit", async () => {
  const p = shim("i=0; while [ $i -lt 50 ]; do echo tick-$i; i=$((i+1)); sleep 0.01; done; exit 6");
  const reader = p.stdout.getReader();
  await readFrames(reader, (f) => f.startsWith("Otick-"));
  await reader.cancel();
  expect(await p.exited).toBe(6);
  const ticks = fs
    .readFileSync(logFile(), "utf8")
    .split("\n")
    .filter((l) => l.startsWith("tick-"));
  expect(ticks).toEqual(Array.from({ length: 50 }, (_, i) => `tick-${i}`));
  expect(parseShimExit(fs.readFileSync(exitFile(), "utf8"))?.code).toBe(6);
});

test("the shim ignores SIGTERM, SIGINT and SIGHUP sent to it; a group SIGTERM stops the child", async () => {
  const p = shim("echo up; sleep 1000 & wait");
  const reader = p.stdout.getReader();
  const frames = await readFrames(reader, (f) => f === "Oup");
  const child = Number(frames[0]!.slice(1));
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.kill(p.pid, sig);
  await Bun.sleep(200);
  expect(pidAlive(p.pid)).toBe(true);
  expect(pidAlive(child)).toBe(true);
  process.kill(-p.pid, "SIGTERM");
  const rest = await readFrames(reader, () => false);
  expect(await p.exited).toBe(143);
  expect(parseShimExit(rest.at(-1)!.slice(1))).toMatchObject({ code: null, signal: "SIGTERM" });
  expect(groupMembers(p.pid)).toEqual([]);
});

test("processes left in the group after the child exits are killed and counted", async () => {
  const p = shim("sleep 1000 & echo $!; exit 0");
  const frames = await readFrames(p.stdout.getReader(), () => false);
  expect(await p.exited).toBe(0);
  const sleeper = Number(frames.find((f) => f.startsWith("O"))!.slice(1));
  expect(pidAlive(sleeper)).toBe(false);
  expect(parseShimExit(frames.at(-1)!.slice(1))).toMatchObject({ code: 0, leftovers: 1 });
  expect(frames.some((f) => f.startsWith("W") && f.includes("left in the group"))).toBe(true);
});

test("a shim started outside its own group does not kill its caller's group", async () => {
  // Not detached: the shim shares the test runner's group and must not treat it as its own.
  const p = Bun.spawn(
    [
      ...self,
      "__shim",
      ...shimArgs({
        generation: 1,
        logPath: logFile(),
        exitFile: exitFile(),
        maxLineLength: 100,
        logMaxBytes: 1000,
        logBackups: 0,
        argv: ["sh", "-c", "sleep 1000 & echo $!"],
      }),
    ],
    { cwd: dir, stdout: "pipe", stderr: "inherit" },
  );
  const frames = await readFrames(p.stdout.getReader(), () => false);
  expect(await p.exited).toBe(0);
  const sleeper = Number(frames.find((f) => f.startsWith("O"))!.slice(1));
  try {
    expect(pidAlive(sleeper)).toBe(true);
    expect(parseShimExit(frames.at(-1)!.slice(1))?.leftovers).toBe(0);
  } finally {
    process.kill(sleeper, "SIGKILL");
  }
});

test("with no backups, process.log is truncated instead of rotated", async () => {
  const p = Bun.spawn(
    [
      ...self,
      "__shim",
      ...shimArgs({
        generation: 1,
        logPath: logFile(),
        exitFile: exitFile(),
        maxLineLength: 100,
        logMaxBytes: 500,
        logBackups: 0,
        argv: ["sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done"],
      }),
    ],
    { cwd: dir, stdout: "ignore", stderr: "inherit", detached: true },
  );
  groups.push(p.pid);
  expect(await p.exited).toBe(0);
  expect(fs.existsSync(`${logFile()}.1`)).toBe(false);
  expect(fs.statSync(logFile()).size).toBeLessThanOrEqual(500);
  expect(fs.readFileSync(logFile(), "utf8")).toContain("line-299\n");
});
});
