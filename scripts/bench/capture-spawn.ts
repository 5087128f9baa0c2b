/**
 * @module
 * The capture process's own share of a restart (issue 13), without the monitor: a serving capture
 * process (`__shim --serve`) is driven the way the monitor drives it, one generation request after
 * the other, each sent the moment the previous generation's X frame arrives, with the restart
 * benchmark's crash program (scripts/bench/programs/crash.c) as the child. Per generation:
 * request → child running (the child's own clock), request → X frame, and start-to-start (the
 * restart latency of a monitor that took --gap-ms, default 3, from the X frame to the next request). Several capture executables run round by round
 * (interleaved), for before/after comparisons on a noisy machine; each round prints the p50 and
 * p99 per executable, and the end the median with min–max of the per-round values.
 *
 *   bun scripts/bench/capture-spawn.ts [--generations N] [--rounds N] [--gap-ms N] EXE ...
 *
 * EXE is a native helper (dist/native/capture) or an autosentry binary (its Bun shim).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { serveArgs } from "../../src/supervisors/local/protocol.ts";
import { crashProgram, quantile, readStarts } from "./crash-loop.ts";

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  if (i === -1) return d;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const GENERATIONS = opt("--generations", 300);
const ROUNDS = opt("--rounds", 5);
/**
 * The pause between an X frame and the next request: the monitor writes the incident folder in
 * between (~2-3 ms), during which the capture process finishes the exit (its exit file). With no
 * pause, request → child would also time that tail, which a real restart overlaps.
 */
const GAP_MS = opt("--gap-ms", 3);
const exes = args.map((b) => path.resolve(b));
if (exes.length === 0) {
  console.error(
    "usage: bun scripts/bench/capture-spawn.ts [--generations N] [--rounds N] [--gap-ms N] EXE ...",
  );
  process.exit(2);
}

const q = quantile;
/** Wall-clock milliseconds with sub-millisecond resolution (the child's clock is CLOCK_REALTIME). */
const wallMs = (): number => performance.timeOrigin + performance.now();

interface Run {
  toChild: number[];
  toExit: number[];
  startToStart: number[];
}

async function run(exe: string, crash: string): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-capture-spawn-"));
  const startLog = path.join(dir, "starts.log");
  const p = Bun.spawn(
    [
      exe,
      "__shim",
      ...serveArgs({
        logPath: path.join(dir, "process.log"),
        maxLineLength: 65536,
        logMaxBytes: 50 * 2 ** 20,
        logBackups: 1,
      }),
    ],
    { cwd: dir, stdin: "pipe", stdout: "pipe", stderr: "inherit", detached: true },
  );
  const reader = p.stdout.getReader();
  const dec = new TextDecoder();
  let buf = "";
  /** Read frames (lines) until this generation's X frame. */
  const untilExit = async (): Promise<void> => {
    for (;;) {
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const frame = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (frame.startsWith("X")) return;
        if (frame.startsWith("F")) throw new Error(`${exe}: ${frame.slice(1)}`);
        nl = buf.indexOf("\n");
      }
      const { done, value } = await reader.read();
      if (done) throw new Error(`${exe} ended before an X frame`);
      buf += dec.decode(value, { stream: true });
    }
  };
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", START_LOG: startLog };
  const sent: number[] = [];
  const toExit: number[] = [];
  try {
    for (let g = 1; g <= GENERATIONS; g++) {
      if (g > 1 && GAP_MS > 0) await Bun.sleep(GAP_MS);
      const req = {
        generation: g,
        argv: [crash],
        cwd: dir,
        env,
        exitFile: path.join(dir, "run", `exit-${g}.json`),
      };
      const t = wallMs();
      sent.push(t);
      p.stdin.write(`${JSON.stringify(req)}\n`);
      p.stdin.flush();
      await untilExit();
      toExit.push(wallMs() - t);
    }
  } finally {
    p.stdin.end();
    await p.exited;
  }
  const starts = readStarts(startLog);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    toChild: starts.map((s, i) => s - sent[i]!),
    toExit,
    startToStart: starts.slice(1).map((s, i) => s - starts[i]!),
  };
}

const crash = crashProgram();
const per = new Map<string, Array<Record<string, number>>>(exes.map((e) => [e, []]));
const f2 = (n: number) => n.toFixed(3);
for (let r = 0; r < ROUNDS; r++) {
  // Rotate the order each round, so no executable always goes first.
  for (let i = 0; i < exes.length; i++) {
    const exe = exes[(i + r) % exes.length]!;
    const got = await run(exe, crash);
    const row = {
      "request → child p50": q(got.toChild, 0.5),
      "request → child p99": q(got.toChild, 0.99),
      "start-to-start p50": q(got.startToStart, 0.5),
      "start-to-start p99": q(got.startToStart, 0.99),
      "request → X p50": q(got.toExit, 0.5),
    };
    per.get(exe)!.push(row);
    console.log(
      `round ${r + 1}: ${exe}: ${Object.entries(row)
        .map(([k, v]) => `${k} ${f2(v)} ms`)
        .join(", ")}`,
    );
  }
}
console.log(
  `\nmedian (min–max) over ${ROUNDS} rounds of ${GENERATIONS} generations, ${GAP_MS} ms between an X frame and the next request, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(2)}:`,
);
for (const [exe, rows] of per) {
  const keys = Object.keys(rows[0] ?? {});
  const cells = keys.map((k) => {
    const v = rows.map((x) => x[k]!);
    return `${k} ${f2(q(v, 0.5))} (${f2(Math.min(...v))}–${f2(Math.max(...v))})`;
  });
  console.log(`${exe}: ${cells.join(", ")}`);
}
