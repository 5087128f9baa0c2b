import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type GenerationRequest, parseShimExit, serveArgs } from "./protocol.ts";
import { capturesUnderTest } from "./test-capture-impls.ts";

// The serving capture process (`__shim --serve`), driven the way the monitor drives it: one JSON
// request per generation on stdin. Run against both implementations (issue 13).
for (const impl of capturesUnderTest())
  describe(`capture: ${impl.name}`, () => {
    let dir: string;
    let groups: number[];
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "serve-"));
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

    const logFile = () => path.join(dir, "logs", "process.log");

    /** `prefix`: a command the capture process is started through (it execs the rest). */
    function serve(maxLine = 1000, logMaxBytes = 100_000_000, backups = 1, prefix: string[] = []) {
      const p = Bun.spawn(
        [
          ...prefix,
          ...impl.self(),
          "__shim",
          ...serveArgs({ logPath: logFile(), maxLineLength: maxLine, logMaxBytes, logBackups: backups }),
        ],
        { cwd: dir, stdin: "pipe", stdout: "pipe", stderr: "pipe", detached: true, env: {} },
      );
      groups.push(p.pid);
      const reader = p.stdout.getReader();
      const dec = new TextDecoder();
      let buf = "";
      const frames: string[] = [];
      /** Frames until one matches `until` (all of them when the stream ends). */
      const next = async (until: (f: string) => boolean): Promise<string[]> => {
        const got: string[] = [];
        for (;;) {
          let nl = buf.indexOf("\n");
          while (nl >= 0) {
            const f = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            got.push(f);
            frames.push(f);
            if (until(f)) return got;
            nl = buf.indexOf("\n");
          }
          const { done, value } = await reader.read();
          if (done) return got;
          buf += dec.decode(value, { stream: true });
        }
      };
      const ask = (r: Partial<GenerationRequest> & { generation: number; argv: string[] }): void => {
        const req: GenerationRequest = {
          cwd: dir,
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", GREETING: 'héllo wörld ✓ "q" \\ \t' },
          exitFile: path.join(dir, "run", `exit-${r.generation}.json`),
          ...r,
        };
        p.stdin.write(`${JSON.stringify(req)}\n`);
        p.stdin.flush();
      };
      return { p, next, ask, frames };
    }

    test("generations run one after another in one process; exit files are left for the monitor", async () => {
      const s = serve();
      s.ask({ generation: 1, argv: ["sh", "-c", 'echo "$GREETING"; pwd; echo err >&2; exit 3'] });
      const g1 = await s.next((f) => f.startsWith("X"));
      expect(g1[0]).toMatch(/^P\d+$/);
      const x1 = parseShimExit(g1.at(-1)!.slice(1))!;
      expect(x1).toMatchObject({ generation: 1, code: 3, signal: null, leftovers: 0 });
      expect(g1.filter((f) => f[0] === "O" || f[0] === "E").sort()).toEqual([
        "Eerr",
        `O${dir}`,
        'Ohéllo wörld ✓ "q" \\ \t',
      ]);
      const st = fs.statSync(logFile());
      expect(g1.at(-2)).toBe(`Z${st.ino}:${st.size}`);
      // A bad request is reported and skipped; the process keeps serving.
      s.p.stdin.write("{not json\n\n");
      s.ask({ generation: 2, argv: ["sh", "-c", "kill -TERM $$"] });
      const g2 = await s.next((f) => f.startsWith("X"));
      expect(g2[0]).toStartWith("Wignoring a bad request");
      expect(parseShimExit(g2.at(-1)!.slice(1))).toMatchObject({
        generation: 2,
        code: null,
        signal: "SIGTERM",
      });
      s.ask({ generation: 3, argv: ["no-such-program-xyz"] });
      const g3 = await s.next((f) => f.startsWith("F"));
      expect(g3.at(-1)).toMatch(/^FExecutable not found in \$PATH: "no-such-program-xyz"/);
      s.p.stdin.end();
      // It exits with the last generation's status (127: could not start).
      expect(await s.p.exited).toBe(127);
      // The capture process never deletes an exit file (the monitor does, after recording the exit).
      expect(parseShimExit(fs.readFileSync(path.join(dir, "run", "exit-1.json"), "utf8"))).toEqual(x1);
      expect(fs.existsSync(path.join(dir, "run", "exit-2.json"))).toBe(true);
      const log = fs.readFileSync(logFile(), "utf8").split("\n");
      expect(log.filter((l) => l.startsWith("===== autosentry: ")).map((l) => l.split(" ")[2])).toEqual([
        "start",
        "stop",
        "start",
        "stop",
        "cannot",
      ]);
      expect(log).toContain("err");
    });

    test("the child's stdout and stderr are sockets in both implementations (Bun.spawn's kind)", async () => {
      // Same kind of descriptor whichever capture process runs: programs that look at it (Node
      // writes a FIFO stdout asynchronously, a socket with a larger buffer) behave the same.
      const s = serve();
      s.ask({ generation: 1, argv: ["sh", "-c", "readlink /proc/self/fd/1 /proc/self/fd/2 >&2"] });
      const g = await s.next((f) => f.startsWith("X"));
      const err = g.filter((f) => f[0] === "E").map((f) => f.slice(1));
      expect(err).toHaveLength(2);
      for (const e of err) expect(e).toMatch(/^socket:\[\d+\]$/);
      s.p.stdin.end();
      await s.p.exited;
    });

    test("bytes are logged as written; \\r and \\r\\n end lines; long lines are cut; a last partial line is kept", async () => {
      const s = serve(10);
      s.ask({
        generation: 1,
        argv: ["sh", "-c", "printf 'a\\rb\\r\\nc\\n\\377\\376bad\\n0123456789abcdef\\nno-newline'"],
      });
      const frames = await s.next((f) => f.startsWith("X"));
      s.p.stdin.end();
      await s.p.exited;
      const cut = "0123456789 …[autosentry: line cut, rest dropped]";
      expect(frames.filter((f) => f[0] === "O").map((f) => f.slice(1))).toEqual([
        "a",
        "b",
        "c",
        "\ufffd\ufffdbad",
        cut,
        "no-newline",
      ]);
      const raw = fs.readFileSync(logFile());
      const body = raw.subarray(raw.indexOf(10) + 1, raw.lastIndexOf(10, raw.length - 2) + 1);
      expect(body).toEqual(
        Buffer.concat([
          Buffer.from("a\nb\nc\n"),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(`bad\n${cut}\nno-newline\n`),
        ]),
      );
    });

    test("process.log rotates by size at line boundaries without losing a line", async () => {
      const s = serve(1000, 2000, 3);
      s.ask({
        generation: 1,
        argv: ["sh", "-c", "i=0; while [ $i -lt 1000 ]; do echo line-$i; i=$((i+1)); done"],
      });
      await s.next((f) => f.startsWith("X"));
      s.p.stdin.end();
      await s.p.exited;
      const files = [`${logFile()}.3`, `${logFile()}.2`, `${logFile()}.1`, logFile()].filter((f) =>
        fs.existsSync(f),
      );
      expect(files.length).toBe(4);
      for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(2000);
      const lines = files.flatMap((f) => fs.readFileSync(f, "utf8").split("\n"));
      for (const f of files) expect(fs.readFileSync(f, "utf8").endsWith("\n")).toBe(true);
      const nums = lines.filter((l) => l.startsWith("line-")).map((l) => Number(l.slice(5)));
      // The newest lines are all there, in order, each whole.
      expect(nums.at(-1)).toBe(999);
      expect(nums).toEqual(Array.from({ length: nums.length }, (_, i) => 1000 - nums.length + i));
    });

    test("every generation's child gets default dispositions, nothing blocked and only 0/1/2, whatever the capture process inherited", async () => {
      // The capture process starts with SIGQUIT, SIGALRM and SIGUSR1 ignored and a descriptor 3
      // that is not close-on-exec; it catches and ignores signals of its own and blocks SIGCHLD
      // (the native helper) outside its poll. None of it may reach the program (issue 13: the
      // native helper starts children with clone(CLONE_VM|CLONE_VFORK), not fork).
      const s = serve(1000, 100_000_000, 1, [
        "sh",
        "-c",
        "trap '' QUIT ALRM USR1; exec 3</dev/null; exec \"$@\"",
        "sh",
      ]);
      // grep reads its own status (a shell would be read while it blocks every signal around its
      // fork of grep); the shell lists its own descriptors.
      for (const generation of [1, 3]) {
        s.ask({ generation, argv: ["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"] });
        const g = await s.next((f) => f.startsWith("X"));
        expect(g.filter((f) => f[0] === "O").map((f) => f.slice(1))).toEqual([
          "SigBlk:\t0000000000000000",
          "SigIgn:\t0000000000000000",
        ]);
        s.ask({ generation: generation + 1, argv: ["sh", "-c", "ls /proc/$$/fd"] });
        const h = await s.next((f) => f.startsWith("X"));
        expect(h.filter((f) => f[0] === "O").map((f) => f.slice(1))).toEqual(["0", "1", "2"]);
      }
      // The premise holds: the capture process itself has SIGQUIT (3) and SIGALRM (14) ignored and
      // descriptor 3 open.
      const status = fs.readFileSync(`/proc/${s.p.pid}/status`, "utf8");
      const ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
      expect(ignored & ((1n << 2n) | (1n << 13n))).toBe((1n << 2n) | (1n << 13n));
      expect(fs.readlinkSync(`/proc/${s.p.pid}/fd/3`)).toBe("/dev/null");
      s.p.stdin.end();
      expect(await s.p.exited).toBe(0);
    });

    test("a child that survives its monitor: stdin closed mid-generation, the capture ends it normally", async () => {
      const s = serve();
      s.ask({ generation: 4, argv: ["sh", "-c", "sleep 0.3; echo late; exit 5"] });
      await s.next((f) => f.startsWith("P"));
      s.p.stdin.end();
      await s.next(() => false);
      expect(await s.p.exited).toBe(5);
      expect(parseShimExit(fs.readFileSync(path.join(dir, "run", "exit-4.json"), "utf8"))?.code).toBe(5);
      expect(fs.readFileSync(logFile(), "utf8")).toContain("\nlate\n");
    });

    test("a daemon that escapes the group with setsid is reported and ended", async () => {
      const s = serve();
      const pidFile = path.join(dir, "daemon.pid");
      s.ask({
        generation: 1,
        argv: [
          "sh",
          "-c",
          `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' </dev/null >/dev/null 2>&1 & sleep 0.2`,
        ],
      });
      const frames = await s.next((f) => f.startsWith("X"));
      s.p.stdin.end();
      await s.p.exited;
      const daemon = Number(fs.readFileSync(pidFile, "utf8").trim());
      expect(
        frames.some(
          (f) =>
            f.startsWith("W") &&
            f.includes("escaped the process group") &&
            f.includes(`${daemon} (sleep 1000)`),
        ),
      ).toBe(true);
      expect(parseShimExit(frames.at(-1)!.slice(1))?.leftovers).toBe(1);
      expect(
        fs.existsSync(`/proc/${daemon}`) && !fs.readFileSync(`/proc/${daemon}/stat`, "utf8").includes(") Z"),
      ).toBe(false);
    });
  });
