import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildExit, Stream } from "../../core/types.ts";
import { LineBatch, splitLines } from "../../util/byte-lines.ts";
import { LINE_CUT_MARKER } from "../../util/lines.ts";
import { MemoryLogger } from "../../util/logger.ts";
import { groupMembers, pidAlive, procStartTime } from "../../util/proc.ts";
import { selfCommand } from "../../util/self-command.ts";
import type { ChildRecord, LaunchSpec, SupervisorSink } from "../types.ts";
import { LocalSupervisor, type LocalSupervisorOptions } from "./local.ts";
import { capturesUnderTest } from "./test-capture-impls.ts";

class TestSink implements SupervisorSink {
  lines: { text: string; stream: Stream; generation: number }[] = [];
  exits: ChildExit[] = [];
  /** Number of lines received when each exit arrived. */
  linesAtExit: number[] = [];
  line(text: string, stream: Stream, generation: number): void {
    this.lines.push({ text, stream, generation });
  }
  exit(exit: ChildExit): void {
    this.exits.push(exit);
    this.linesAtExit.push(this.lines.length);
  }
  texts(stream?: Stream): string[] {
    return this.lines.filter((l) => stream === undefined || l.stream === stream).map((l) => l.text);
  }
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await Bun.sleep(20);
  }
}

/**
 * The capture process under test: every test below runs against both implementations (the Bun shim
 * and the native helper, test-capture-impls.ts). `AUTOSENTRY_TEST_SELF=dist/autosentry bun test …`
 * runs the Bun shim of the compiled binary.
 */
let self: string[] = [];

let dir: string;
/** Process groups to kill if a test fails half-way (by pgid, never by name). */
let groups: number[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-sup-"));
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

function make(over: Partial<LocalSupervisorOptions> = {}) {
  const sink = new TestSink();
  const logger = new MemoryLogger();
  const sup = new LocalSupervisor({
    sink,
    logDir: path.join(dir, "logs"),
    runDir: path.join(dir, "run"),
    maxLineLength: 1000,
    processLogMaxBytes: 50 * 1024 * 1024,
    processLogBackups: 5,
    logger,
    adoptPollMs: 100,
    selfCommand: self,
    ...over,
  });
  return { sup, sink, logger, logFile: path.join(dir, "logs", "process.log") };
}

function spec(script: string, generation = 1, env: Record<string, string> = {}): LaunchSpec {
  return {
    generation,
    argv: ["sh", "-c", script],
    cwd: dir,
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
    envOverrides: {},
  };
}

async function startTracked(sup: LocalSupervisor, s: LaunchSpec): Promise<ChildRecord> {
  const rec = await sup.start(s);
  groups.push(rec.pgid!);
  return rec;
}

// biome-ignore format: the tests keep their indentation inside the loop (a small diff to merge)
for (const impl of capturesUnderTest()) describe(`capture: ${impl.name}`, () => {
beforeEach(() => {
  self = impl.self();
});

describe("output and exits", () => {
  test("lines of both streams are tagged and ordered per stream; process.log has them with banners", async () => {
    const { sup, sink, logFile } = make();
    const rec = await startTracked(
      sup,
      spec("for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf 'p1\\rp2\\rp3\\ndone\\r\\n'"),
    );
    expect(rec.kind).toBe("local");
    expect(rec.pid).toBeGreaterThan(1);
    expect(rec.pgid).toBe(rec.details["shimPid"] as number);
    await waitFor(() => sink.exits.length === 1);
    expect(sink.texts("stdout")).toEqual(["out1", "out2", "out3", "out4", "out5", "p1", "p2", "p3", "done"]);
    expect(sink.texts("stderr")).toEqual(["err1", "err2", "err3", "err4", "err5"]);
    expect(sink.lines.every((l) => l.generation === 1)).toBe(true);
    expect(sink.exits[0]).toMatchObject({ code: 0, signal: null, exitClass: "success", generation: 1 });
    expect(sink.linesAtExit).toEqual([sink.lines.length]);
    expect(sup.running()).toBe(false);
    expect(sup.record()).toBeNull();

    const log = fs.readFileSync(logFile, "utf8").split("\n");
    expect(log[0]).toMatch(
      new RegExp(`^===== autosentry: start \\d{4}-\\d\\d-\\d\\dT\\S+Z gen=1 pid=${rec.pid} =====$`),
    );
    expect(log.filter((l) => l.startsWith("out"))).toEqual(["out1", "out2", "out3", "out4", "out5"]);
    expect(log).toContain("p2");
    expect(log.at(-2)).toMatch(/^===== autosentry: stop \S+Z exit=0 =====$/);
    expect(log.at(-1)).toBe("");
  });

  test("a sink that takes lines as bytes (lineBytes, a few per call) gets the same lines, in order, before the exit", async () => {
    const { sup, sink } = make();
    const batch = new LineBatch();
    let calls = 0;
    (sink as SupervisorSink).lineBytes = (bytes, from, to, tags, maxLine, generation) => {
      calls++;
      // take at most 3 lines: the rest must come again in the next call
      const stop = splitLines(bytes, from, to, tags, maxLine, batch);
      const n = Math.min(batch.count, 3);
      for (let i = 0; i < n; i++) sink.line(batch.text(i), (["stdout", "stderr"] as const)[batch.stream[i]!]!, generation);
      return n < batch.count ? batch.start[n]! - 1 : stop;
    };
    const long = "é".repeat(700); // 1,400 bytes: over maxLineLength (1000), cut by the capture process
    await startTracked(
      sup,
      spec(
        `for i in 1 2 3 4 5 6 7; do echo out$i; echo err$i >&2; done; printf 'p1\\rp2\\rp3\\ndone\\r\\n'; echo '${long}'; printf '\\357\\273\\277bom\\n\\342\\202\\n'`,
      ),
    );
    await waitFor(() => sink.exits.length === 1);
    expect(calls).toBeGreaterThan(0);
    const out = sink.texts("stdout");
    expect(out.slice(0, 11)).toEqual(["out1", "out2", "out3", "out4", "out5", "out6", "out7", "p1", "p2", "p3", "done"]);
    expect(out[11]!.endsWith(LINE_CUT_MARKER)).toBe(true);
    expect(out.slice(12)).toEqual(["\ufeffbom", "\ufffd"]);
    expect(sink.texts("stderr")).toEqual(["err1", "err2", "err3", "err4", "err5", "err6", "err7"]);
    expect(sink.linesAtExit).toEqual([sink.lines.length]);
  });

  test("a flood the monitor cannot keep up with loses no line: the dropped ones are read from process.log", async () => {
    const N = 400_000;
    const { sup, sink, logger } = make({ processLogMaxBytes: 8 * 1024 * 1024, processLogBackups: 9 });
    let stalled = false;
    const line = sink.line.bind(sink);
    sink.line = (text, stream, generation) => {
      if (!stalled) {
        // The monitor is busy for a while (a slow incident, a loaded machine): the shim's queue fills.
        stalled = true;
        const until = Date.now() + 3000;
        while (Date.now() < until) {}
      }
      line(text, stream, generation);
    };
    // About 20 MB of 50-byte lines, flat out, then a failure line and exit 3.
    await startTracked(
      sup,
      spec(
        `seq 1 ${N} | sed 's/^/flood line with some padding to fifty bytes /'; echo 'FATAL: the failure line'; exit 3`,
      ),
    );
    await waitFor(() => sink.exits.length === 1, 120_000);
    expect(
      logger.lines.some((l) => l.includes("reading them and the rest of this generation from process.log")),
    ).toBe(true);
    const texts = sink.texts();
    const numbers = texts
      .filter((t) => t.startsWith("flood line"))
      .map((t) => Number(t.slice(t.lastIndexOf(" ") + 1)));
    expect(numbers.length).toBe(N);
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
    expect(texts.at(-1)).toBe("FATAL: the failure line");
    expect(sink.exits[0]).toMatchObject({ code: 3, exitClass: "failure" });
    expect(sink.linesAtExit).toEqual([texts.length]);
  }, 180_000);

  test("exit codes and signal deaths are classified", async () => {
    const cases: [string, Partial<ChildExit>][] = [
      ["exit 3", { code: 3, signal: null, exitClass: "failure" }],
      ["kill -KILL $$", { code: 137, signal: "SIGKILL", exitClass: "signal" }],
      ["kill -TERM $$", { code: 143, signal: "SIGTERM", exitClass: "signal" }],
    ];
    let gen = 1;
    for (const [script, expected] of cases) {
      const { sup, sink, logFile } = make();
      await startTracked(sup, spec(script, gen));
      await waitFor(() => sink.exits.length === 1);
      expect(sink.exits[0]).toMatchObject({ ...expected, generation: gen });
      const last = fs.readFileSync(logFile, "utf8").trimEnd().split("\n").at(-1);
      expect(last).toContain(`exit=${expected.code} =====`);
      gen++;
    }
  });

  test("the child gets exactly the given environment and working directory", async () => {
    fs.writeFileSync(path.join(dir, ".env"), "LEAKED_FROM_DOTENV=1\n");
    const { sup, sink } = make();
    await startTracked(sup, spec('echo "foo=$FOO"; echo "leak=$LEAKED_FROM_DOTENV"; pwd', 1, { FOO: "bar" }));
    await waitFor(() => sink.exits.length === 1);
    expect(sink.texts()).toEqual(["foo=bar", "leak=", fs.realpathSync(dir)]);
  });

  test("a 50 MB line without newline is cut, memory stays bounded, later lines still arrive", async () => {
    const { sup, sink, logFile } = make({ maxLineLength: 1000 });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const flag = path.join(dir, "flag");
    const rec = await startTracked(
      sup,
      spec(
        `head -c 52428800 /dev/zero | tr '\\0' a; echo; echo later; while [ ! -e ${flag} ]; do sleep 0.05; done`,
      ),
    );
    await waitFor(() => sink.lines.length === 2, 60_000, "two lines");
    clearInterval(sampler);
    const shimPeakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${rec.pgid}/status`, "utf8"))![1]);
    fs.writeFileSync(flag, "");
    await waitFor(() => sink.exits.length === 1);
    expect(sink.texts()).toEqual(["a".repeat(1000) + LINE_CUT_MARKER, "later"]);
    // A buffered 50 MB line would cost at least 50 MB on either side. Measured on Bun 1.4.5: the
    // monitor grows ~7 MB; the shim peaks at 62-71 MB (36 MB idle) from chunks awaiting GC.
    expect(peak - before).toBeLessThan(25 * 1024 * 1024);
    expect(shimPeakKb).toBeLessThan(100 * 1024);
    expect(fs.statSync(logFile).size).toBeLessThan(4000);
  }, 90_000);

  test("process.log is rotated by size into a bounded chain", async () => {
    const { sup, sink, logFile } = make({ processLogMaxBytes: 2000, processLogBackups: 2 });
    await startTracked(sup, spec("i=0; while [ $i -lt 1000 ]; do echo line-$i; i=$((i+1)); done"));
    await waitFor(() => sink.exits.length === 1);
    expect(sink.texts()).toEqual(Array.from({ length: 1000 }, (_, i) => `line-${i}`));
    for (const f of [logFile, `${logFile}.1`, `${logFile}.2`])
      expect(fs.statSync(f).size).toBeLessThanOrEqual(2000);
    expect(fs.statSync(`${logFile}.2`).size).toBeGreaterThan(1900);
    expect(fs.existsSync(`${logFile}.3`)).toBe(false);
    const kept = [`${logFile}.2`, `${logFile}.1`, logFile]
      .flatMap((f) => fs.readFileSync(f, "utf8").split("\n"))
      .filter((l) => l.startsWith("line-"))
      .map((l) => Number(l.slice(5)));
    // The newest lines survive, in order, without gaps or repeats; the oldest were rotated away.
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(1000);
    expect(kept.at(-1)).toBe(999);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => 1000 - kept.length + i));
  });

  test("a missing executable or working directory makes start reject clearly", async () => {
    const { sup, sink } = make();
    const s = spec("true");
    await expect(sup.start({ ...s, argv: ["no-such-program-xyz", "--flag"] })).rejects.toThrow(
      /^Cannot start no-such-program-xyz: Executable not found/,
    );
    expect(sup.running()).toBe(false);
    await expect(sup.start({ ...s, cwd: path.join(dir, "missing") })).rejects.toThrow(
      `Cannot start sh: working directory not found: ${path.join(dir, "missing")}`,
    );
    await expect(sup.start({ ...s, argv: [] })).rejects.toThrow(/command is empty/);
    expect(sink.exits).toEqual([]);
    // A bad self command (no shim at all) is reported too.
    const broken = make({ selfCommand: [path.join(dir, "no-autosentry")] });
    await expect(broken.sup.start(s)).rejects.toThrow(/cannot run the capture shim/);
  });
});

describe("stop", () => {
  test("kills background grandchildren; the exit is `stopped`; nobody survives", async () => {
    const { sup, sink, logFile } = make();
    const rec = await startTracked(sup, spec("echo up; sleep 1000 & sleep 1000 & wait"));
    await waitFor(() => groupMembers(rec.pgid!).length === 4); // shim, sh, two sleeps
    await sup.stop("abort", 5);
    expect(sink.exits).toHaveLength(1);
    expect(sink.exits[0]).toMatchObject({ exitClass: "stopped", signal: "SIGTERM", code: 143 });
    expect(sink.texts()).toEqual(["up"]);
    expect(groupMembers(rec.pgid!)).toEqual([]);
    expect(fs.readFileSync(logFile, "utf8").trimEnd().split("\n").at(-1)).toMatch(/stop \S+ exit=143 =====$/);
  });

  test("a child that ignores SIGTERM is SIGKILLed after the grace", async () => {
    const { sup, sink, logger } = make();
    const rec = await startTracked(sup, spec("trap '' TERM; echo up; sleep 1000 & sleep 1000 & wait"));
    await waitFor(() => groupMembers(rec.pgid!).length === 4);
    await sup.stop("restart", 0.3);
    expect(sink.exits).toHaveLength(1);
    expect(sink.exits[0]).toMatchObject({ exitClass: "stopped", signal: "SIGKILL", code: 137 });
    // A restart keeps the serving capture process (it leads the group) and nothing else of the job.
    expect(groupMembers(rec.pgid!)).toEqual([rec.pgid!]);
    await sup.close();
    expect(groupMembers(rec.pgid!)).toEqual([]);
    expect(pidAlive(rec.pgid!)).toBe(false);
    expect(logger.lines.some((l) => l.includes("did not stop within 0.3s"))).toBe(true);
  });

  test("a daemon that escaped the group (double fork + setsid) is reported by pid and command and ended", async () => {
    const { sup, sink, logger } = make();
    const pidFile = path.join(dir, "daemon.pid");
    await startTracked(
      sup,
      spec(
        `setsid -f sh -c 'echo $$ > ${pidFile}; exec sleep 1000'; while [ ! -s ${pidFile} ]; do sleep 0.02; done; echo up`,
      ),
    );
    await waitFor(() => sink.exits.length === 1, 20_000);
    const daemon = Number(fs.readFileSync(pidFile, "utf8"));
    expect(daemon).toBeGreaterThan(1);
    const warning = logger.lines.find((l) => l.includes("escaped the process group"));
    expect(warning).toContain(`${daemon} (sleep 1000)`);
    expect(pidAlive(daemon)).toBe(false);
    expect(sink.exits[0]).toMatchObject({ code: 0, exitClass: "success" });
    await sup.close();
  });

  test("a shim killed from outside: exit `unknown`, the child is not left behind, banner appended", async () => {
    const { sup, sink, logFile } = make();
    const rec = await startTracked(sup, spec("echo up; sleep 1000"));
    await waitFor(() => sink.lines.length === 1);
    process.kill(rec.pgid!, "SIGKILL");
    await waitFor(() => sink.exits.length === 1);
    expect(sink.exits[0]).toMatchObject({ exitClass: "unknown", code: null });
    expect(sink.exits[0]!.detail).toContain("without recording the exit");
    expect(groupMembers(rec.pgid!)).toEqual([]);
    expect(pidAlive(rec.pid!)).toBe(false);
    expect(fs.readFileSync(logFile, "utf8").trimEnd().split("\n").at(-1)).toMatch(
      /stop \S+ exit=unknown =====$/,
    );
  });
});

describe("detach and adopt", () => {
  const ticker = (flag: string, code = 5) =>
    `i=0; while [ ! -e ${flag} ]; do echo tick-$i; i=$((i+1)); sleep 0.02; done; echo bye; exit ${code}`;

  function ticks(lines: string[]): number[] {
    return lines.filter((t) => t.startsWith("tick-")).map((t) => Number(t.slice(5)));
  }

  test("detach leaves the child running and logging; adopt continues without gaps and gets the real exit", async () => {
    const first = make();
    const flag = path.join(dir, "flag");
    const rec0 = await startTracked(first.sup, spec(ticker(flag), 4));
    await waitFor(() => first.sink.lines.length >= 5);
    await first.sup.detach();
    const rec = first.sup.record()!;
    expect(rec.logOffset).toBeGreaterThan(0);
    expect(first.sup.running()).toBe(false);
    const seen = ticks(first.sink.texts());
    const size = fs.statSync(first.logFile).size;
    // The shim got EPIPE on its next frame and keeps logging; the child keeps running.
    await waitFor(() => fs.statSync(first.logFile).size > size + 200);
    expect(pidAlive(rec0.pid!)).toBe(true);
    expect(pidAlive(rec0.pgid!)).toBe(true);

    const second = make();
    expect(await second.sup.adopt(JSON.parse(JSON.stringify(rec)))).toBe(true);
    expect(second.sup.running()).toBe(true);
    await waitFor(() => second.sink.lines.length >= 5);
    expect(second.sink.lines.every((l) => l.stream === "log" && l.generation === 4)).toBe(true);
    expect(second.sup.record()!.logOffset).toBeGreaterThan(rec.logOffset);
    fs.writeFileSync(flag, "");
    await waitFor(() => second.sink.exits.length === 1);
    expect(second.sink.exits[0]).toMatchObject({
      code: 5,
      signal: null,
      exitClass: "failure",
      generation: 4,
    });
    expect(second.sink.texts().at(-1)).toBe("bye");
    expect(second.sink.texts().some((t) => t.startsWith("====="))).toBe(false);
    const later = ticks(second.sink.texts());
    // At least once: the adopter resumes at the last acknowledged offset, so nothing is missed.
    expect(later[0]!).toBeLessThanOrEqual(seen.at(-1)! + 1);
    expect(later).toEqual(Array.from({ length: later.length }, (_, i) => later[0]! + i));
    expect(first.sink.exits).toEqual([]);
  });

  test("the shim survives the death of the monitor process; a new monitor adopts it", async () => {
    const flag = path.join(dir, "flag");
    const script = path.join(dir, "monitor.ts");
    fs.writeFileSync(
      script,
      `import { LocalSupervisor } from ${JSON.stringify(path.resolve(import.meta.dir, "local.ts"))};
import { MemoryLogger } from ${JSON.stringify(path.resolve(import.meta.dir, "../../util/logger.ts"))};
const sup = new LocalSupervisor({
  sink: { line() {}, exit() {} }, logDir: ${JSON.stringify(path.join(dir, "logs"))},
  runDir: ${JSON.stringify(path.join(dir, "run"))}, maxLineLength: 1000, processLogMaxBytes: 1e8,
  processLogBackups: 1, logger: new MemoryLogger(), selfCommand: ${JSON.stringify(self)},
});
const rec = await sup.start(${JSON.stringify(spec(ticker(flag, 0), 7))});
await Bun.sleep(200);
console.log(JSON.stringify(sup.record()));
await Bun.sleep(1e9);
`,
    );
    const monitor = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const reader = monitor.stdout.getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("monitor script ended early");
      text += new TextDecoder().decode(value);
    }
    const rec = JSON.parse(text) as ChildRecord;
    groups.push(rec.pgid!);
    monitor.kill("SIGKILL");
    await monitor.exited;
    const logFile = path.join(dir, "logs", "process.log");
    const size = fs.statSync(logFile).size;
    await waitFor(() => fs.statSync(logFile).size > size + 200, 10_000, "log growth after the monitor died");
    expect(pidAlive(rec.pid!)).toBe(true);

    const { sup, sink } = make();
    expect(await sup.adopt(rec)).toBe(true);
    await waitFor(() => sink.lines.length > 3);
    fs.writeFileSync(flag, "");
    await waitFor(() => sink.exits.length === 1);
    expect(sink.exits[0]).toMatchObject({ code: 0, exitClass: "success", generation: 7 });
    expect(sink.texts().at(-1)).toBe("bye");
  });

  test("stop on an adopted child kills its group and reports `stopped`", async () => {
    const first = make();
    const rec0 = await startTracked(first.sup, spec("echo up; sleep 1000 & sleep 1000 & wait", 2));
    await waitFor(() => first.sink.lines.length === 1);
    await first.sup.detach();
    const second = make();
    expect(await second.sup.adopt(first.sup.record()!)).toBe(true);
    await second.sup.stop("shutdown", 5);
    expect(second.sink.exits).toHaveLength(1);
    expect(second.sink.exits[0]).toMatchObject({ exitClass: "stopped", signal: "SIGTERM", generation: 2 });
    expect(groupMembers(rec0.pgid!)).toEqual([]);
  });

  test("an adopted shim that dies without an exit file gives `unknown`, never success", async () => {
    const first = make();
    const rec0 = await startTracked(first.sup, spec("echo up; sleep 1000", 3));
    await waitFor(() => first.sink.lines.length === 1);
    await first.sup.detach();
    const second = make();
    expect(await second.sup.adopt(first.sup.record()!)).toBe(true);
    process.kill(rec0.pgid!, "SIGKILL");
    await waitFor(() => second.sink.exits.length === 1);
    expect(second.sink.exits[0]).toMatchObject({
      exitClass: "unknown",
      code: null,
      detail: "exit file missing",
    });
    expect(groupMembers(rec0.pgid!)).toEqual([]);
  });

  test("adopt follows rotations that happened while nobody was reading", async () => {
    const first = make({ processLogMaxBytes: 400, processLogBackups: 20 });
    const go = path.join(dir, "go");
    const end = path.join(dir, "end");
    await startTracked(
      first.sup,
      spec(
        `echo a; while [ ! -e ${go} ]; do sleep 0.02; done; ` +
          `i=0; while [ $i -lt 200 ]; do echo b-$i; i=$((i+1)); done; ` +
          `while [ ! -e ${end} ]; do sleep 0.02; done`,
      ),
    );
    await waitFor(() => first.sink.lines.length === 1);
    await first.sup.detach();
    const rec = first.sup.record()!;
    fs.writeFileSync(go, "");
    const logFile = first.logFile;
    // Read the chain, not just process.log: it is briefly absent while the shim rotates it.
    const logged = (): string =>
      [logFile, ...Array.from({ length: 20 }, (_, i) => `${logFile}.${i + 1}`)]
        .map((f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : ""))
        .join("");
    await waitFor(() => logged().includes("b-199"));
    expect(fs.statSync(logFile).ino).not.toBe(rec.details["logIno"]);

    const second = make({ processLogMaxBytes: 400, processLogBackups: 20 });
    expect(await second.sup.adopt(rec)).toBe(true);
    await waitFor(() => second.sink.texts().includes("b-199"));
    expect(second.sink.texts()).toEqual(Array.from({ length: 200 }, (_, i) => `b-${i}`));
    fs.writeFileSync(end, "");
    await waitFor(() => second.sink.exits.length === 1);
    expect(second.sink.exits[0]!.exitClass).toBe("success");
  }, 30_000);

  test("adopt past more rotations than backups: a reused inode is not taken for the file read last; the loss is said", async () => {
    const first = make({ processLogMaxBytes: 400, processLogBackups: 2 });
    const go = path.join(dir, "go");
    const end = path.join(dir, "end");
    await startTracked(
      first.sup,
      spec(
        `echo a; while [ ! -e ${go} ]; do sleep 0.02; done; ` +
          `i=0; while [ $i -lt 200 ]; do echo b-$i-padding-to-make-many-more-rotations-than-backups; i=$((i+1)); done; ` +
          `while [ ! -e ${end} ]; do sleep 0.02; done`,
      ),
    );
    await waitFor(() => first.sink.lines.length === 1);
    await first.sup.detach();
    const rec = first.sup.record()!;
    expect(typeof rec.details["logBirth"]).toBe("number");
    fs.writeFileSync(go, "");
    const logFile = first.logFile;
    const kept = [`${logFile}.2`, `${logFile}.1`, logFile];
    await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, "utf8").includes("b-199-"));
    // ext4 hands the recorded inode number to a newer file: here, the current process.log.
    rec.details["logIno"] = fs.statSync(logFile).ino;
    const unread = kept.flatMap((f) =>
      fs
        .readFileSync(f, "utf8")
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("===== autosentry: ")),
    );

    const second = make({ processLogMaxBytes: 400, processLogBackups: 2 });
    expect(await second.sup.adopt(rec)).toBe(true);
    expect(unread[0]).not.toBe("a"); // the file read last is gone
    await waitFor(() => second.sink.texts().at(-1)?.startsWith("b-199-") === true);
    expect(second.logger.lines.some((l) => l.includes("rotated away unread"))).toBe(true);
    // Everything still kept is read, in order, from the oldest backup on.
    expect(second.sink.texts()).toEqual(unread);
    fs.writeFileSync(end, "");
    await waitFor(() => second.sink.exits.length === 1);
  }, 30_000);

  test("adopting a finished child resolves false", async () => {
    const { sup, sink } = make();
    await startTracked(sup, spec("echo x; sleep 0.3"));
    await waitFor(() => sink.lines.length === 1);
    const rec = sup.record()!;
    await waitFor(() => sink.exits.length === 1);
    const other = make();
    // The serving capture process may outlive the child: the child being gone is what counts.
    expect(await other.sup.adopt(rec)).toBe(false);
    await sup.close();
    await waitFor(() => !pidAlive(rec.pgid!));
    expect(await other.sup.adopt(rec)).toBe(false);
    expect(other.sup.running()).toBe(false);
    expect(other.sink.exits).toEqual([]);
  });

  test("a record whose shim pid now belongs to another process is not adopted, and that process is untouched", async () => {
    const stranger = Bun.spawn(["sleep", "1000"], { detached: true });
    groups.push(stranger.pid);
    const real = procStartTime(stranger.pid)!;
    const { sup } = make();
    const rec: ChildRecord = {
      kind: "local",
      generation: 1,
      pid: null,
      pgid: stranger.pid,
      startedAt: Date.now(),
      details: {
        shimPid: stranger.pid,
        shimStart: String(Number(real) - 1),
        exitFile: path.join(dir, "x.json"),
      },
      logPath: path.join(dir, "logs", "process.log"),
      logOffset: 0,
    };
    expect(await sup.adopt(rec)).toBe(false);
    await Bun.sleep(100);
    expect(pidAlive(stranger.pid)).toBe(true);
    expect(sup.running()).toBe(false);
  });
});

describe("orphans", () => {
  test("a later monitor finds the serving capture process of a run it does not know and stops its group", async () => {
    const first = make();
    const rec = await startTracked(first.sup, spec("echo up; sleep 1000"));
    await waitFor(() => first.sink.texts().includes("up"));
    const shimPid = rec.details["shimPid"] as number;
    await first.sup.detach();
    const second = make();
    // The record names it: kept.
    expect(await second.sup.reapOrphans(rec)).toEqual([]);
    expect(pidAlive(shimPid)).toBe(true);
    // Nobody names it (a monitor killed mid-launch): stopped, with its child.
    expect(await second.sup.reapOrphans(null)).toEqual([shimPid]);
    await waitFor(() => groupMembers(shimPid).length === 0, 10_000, "the group to end");
    expect(pidAlive(rec.pid!)).toBe(false);
  });
});
});

test("default selfCommand runs the shim from source under bun test", () => {
  expect(selfCommand().at(-1)).toMatch(/main\.ts$/);
});
