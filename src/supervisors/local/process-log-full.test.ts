import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shimArgs } from "./protocol.ts";
import { ProcessLog } from "./shim.ts";
import { capturesUnderTest } from "./test-capture-impls.ts";

// A real full disk: a 64 KiB tmpfs (the test suite runs as root, as `npm test` needs anyway).
let mnt = "";
beforeAll(() => {
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), "as-plog-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()} (run as root)`);
});
afterAll(() => {
  Bun.spawnSync(["umount", mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

test("process.log resumes on a line boundary after a full disk (issue 16, finding 9)", () => {
  const warnings: string[] = [];
  const log = new ProcessLog(path.join(mnt, "process.log"), 1024 * 1024, 0, (m) => warnings.push(m));
  const line = (i: number) => `line ${i} ${"x".repeat(90)}\n`;
  let i = 0;
  // Batches of 7 lines until the disk is full, and a few more that fail.
  for (; i < 7 * 200; i += 7) log.write(Array.from({ length: 7 }, (_, k) => line(i + k)).join(""), "latin1");
  expect(warnings).toHaveLength(1); // said once
  Bun.spawnSync(["mount", "-o", "remount,size=4m", mnt]);
  for (let k = 0; k < 10; k++, i++) log.write(line(i), "latin1");
  log.close();
  const text = fs.readFileSync(path.join(mnt, "process.log"), "latin1");
  const lines = text.split("\n").filter((l) => l !== "");
  // Every line is whole or a torn piece of one, never two run together.
  for (const l of lines) expect(l.match(/line \d+/g)?.length ?? 0).toBeLessThanOrEqual(1);
  expect(lines.at(-1)).toBe(line(i - 1).trimEnd());
});

// The same through a whole capture process, for both implementations (issue 13).
for (const impl of capturesUnderTest()) {
  test(`capture: ${impl.name}: a full disk is said once, output keeps flowing, and process.log resumes on a line boundary`, async () => {
    const sub = fs.mkdtempSync(path.join(os.tmpdir(), "as-plog-full-cap-"));
    const logFile = path.join(mnt, `${impl.name}.log`);
    for (const f of fs.readdirSync(mnt)) fs.rmSync(path.join(mnt, f), { force: true });
    const r = Bun.spawnSync(["mount", "-o", "remount,size=64k", mnt]);
    if (r.exitCode !== 0) throw new Error(`remount failed: ${r.stderr.toString()}`);
    const flag = path.join(sub, "flag");
    const script =
      `i=0; while [ $i -lt 1400 ]; do echo "line $i ${"x".repeat(90)}"; i=$((i+1)); done; ` +
      `while [ ! -e ${flag} ]; do sleep 0.02; done; ` +
      `while [ $i -lt 1410 ]; do echo "line $i ${"x".repeat(90)}"; i=$((i+1)); done`;
    const p = Bun.spawn(
      [
        ...impl.self(),
        "__shim",
        ...shimArgs({
          generation: 1,
          logPath: logFile,
          exitFile: path.join(sub, "exit.json"),
          maxLineLength: 1000,
          logMaxBytes: 1024 * 1024,
          logBackups: 0,
          argv: ["sh", "-c", script],
        }),
      ],
      { cwd: sub, stdout: "pipe", stderr: "pipe", detached: true },
    );
    try {
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let text = "";
      while (!text.includes("Oline 1399 ")) {
        const { done, value } = await reader.read();
        if (done) throw new Error("capture ended early");
        text += dec.decode(value, { stream: true });
      }
      Bun.spawnSync(["mount", "-o", "remount,size=4m", mnt]);
      fs.writeFileSync(flag, "");
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
      }
      expect(await p.exited).toBe(0);
      const frames = text.split("\n");
      // Every line was forwarded, and the full disk was said once.
      expect(frames.filter((f) => f.startsWith("Oline ")).length).toBe(1410);
      expect(frames.filter((f) => f.startsWith("WCannot write")).length).toBe(1);
      const lines = fs
        .readFileSync(logFile, "latin1")
        .split("\n")
        .filter((l) => l !== "");
      for (const l of lines) expect(l.match(/line \d+/g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(lines.filter((l) => /^line 140\d /.test(l)).length).toBe(10);
      expect(lines.at(-1)).toMatch(/^===== autosentry: stop .* exit=0 =====$/);
    } finally {
      try {
        process.kill(-p.pid, "SIGKILL");
      } catch {}
      fs.rmSync(sub, { recursive: true, force: true });
    }
  }, 60_000);
}
