/**
 * The samplers and probes against real things: this machine's filesystems and /proc, a spawned
 * process tree, a loopback HTTP server, a fake nvidia-smi's output, real checkpoint files.
 */
import { describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { scratchDirs } from "../../tests/support/cli.ts";
import { completeCheckpoints, newestCheckpoint, resumeArgs } from "./checkpoints.ts";
import { diskUsage } from "./disk.ts";
import { gpuQueryArgv, parseGpuCsv, parseXidLines } from "./gpu.ts";
import { memAvailable, parseMemAvailable } from "./meminfo.ts";
import { httpProbe, parseHostPort, tcpProbe } from "./probes.ts";
import { descendants, treeUsage } from "./process-tree.ts";
import { SamplerRunner } from "./run-sampler.ts";
import { readSentinels } from "./sentinel-files.ts";
import { SeriesStore, seriesFileName } from "./series-store.ts";

const scratch = scratchDirs("autosentry-signals-");

describe("host readings", () => {
  test("disk usage agrees with df for the same path", async () => {
    const dir = scratch();
    const u = await diskUsage(dir);
    const df = Bun.spawnSync(["df", "-P", "-B1", dir]).stdout.toString().trim().split("\n")[1]!.split(/\s+/);
    const [used, avail] = [Number(df[2]), Number(df[3])];
    // the filesystem is shared: allow what other writers do between the two readings (1 %)
    expect(Math.abs(u.percent - (100 * used) / (used + avail))).toBeLessThan(1);
    expect(u.totalBytes).toBe(Number(df[1]));
  });

  test("a path that does not exist yet is measured on its nearest existing parent", async () => {
    const dir = scratch();
    const u = await diskUsage(path.join(dir, "ckpt", "not-yet"));
    expect(u.totalBytes).toBe((await diskUsage(dir)).totalBytes);
  });

  test("MemAvailable", async () => {
    expect(parseMemAvailable("MemTotal: 100 kB\nMemAvailable:    2048 kB\n")).toBe(2048 * 1024);
    expect(parseMemAvailable("MemTotal: 100 kB\n")).toBeNull();
    expect(await memAvailable()).toBeGreaterThan(0);
    const dir = scratch({ meminfo: "MemTotal: 1 kB\n" });
    expect(memAvailable(path.join(dir, "meminfo"))).rejects.toThrow(/no MemAvailable/);
  });

  test("RSS and fds are summed over the whole tree", async () => {
    // a shell whose child holds 64 MiB and a few extra fds
    const p = Bun.spawn(
      [
        "sh",
        "-c",
        `exec 7</dev/null 8</dev/null; ${process.execPath} -e 'const b=Buffer.alloc(64*1024*1024,1); setInterval(()=>b[0]++,1000)' & wait`,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    try {
      let u = treeUsage(p.pid);
      for (let i = 0; i < 100 && u.rssBytes < 64 * 1024 * 1024; i++) {
        await Bun.sleep(50);
        u = treeUsage(p.pid);
      }
      expect(descendants(p.pid).length).toBeGreaterThanOrEqual(2);
      expect(u.processes).toBeGreaterThanOrEqual(2);
      expect(u.rssBytes).toBeGreaterThan(64 * 1024 * 1024);
      const own = Number(fs.readFileSync(`/proc/${p.pid}/statm`, "latin1").split(" ")[1]) * 4096;
      expect(u.rssBytes).toBeGreaterThan(own);
      expect(u.fds).toBeGreaterThanOrEqual(fs.readdirSync(`/proc/${p.pid}/fd`).length + 3);
    } finally {
      for (const pid of descendants(p.pid).reverse()) process.kill(pid, "SIGKILL");
      await p.exited;
    }
    expect(treeUsage(999_999_999)).toEqual({ processes: 0, rssBytes: 0, fds: 0 });
  });
});

describe("GPU", () => {
  test("nvidia-smi CSV with [N/A] and [Not Supported]", () => {
    expect(gpuQueryArgv("nvidia-smi")[1]).toBe(
      "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,ecc.errors.uncorrected.volatile.total",
    );
    const g = parseGpuCsv(
      "0, NVIDIA A100-SXM4-80GB, 79000, 81920, 97, 0\n1, NVIDIA A100, 10, 81920, [N/A], [Not Supported]\n",
    );
    expect(g).toEqual([
      {
        index: 0,
        name: "NVIDIA A100-SXM4-80GB",
        memoryUsedMiB: 79000,
        memoryTotalMiB: 81920,
        utilizationPercent: 97,
        eccUncorrected: 0,
      },
      {
        index: 1,
        name: "NVIDIA A100",
        memoryUsedMiB: 10,
        memoryTotalMiB: 81920,
        utilizationPercent: null,
        eccUncorrected: null,
      },
    ]);
    expect(() => parseGpuCsv("No devices were found\n")).toThrow(/unexpected line/);
  });

  test("Xid lines from the kernel log", () => {
    const x = parseXidLines(
      "[  12.3] eth0 up\n[ 99.1] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.\n",
    );
    expect(x).toEqual([
      {
        pci: "PCI:0000:3b:00",
        code: 79,
        line: "NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus.",
      },
    ]);
  });
});

describe("sampler runner", () => {
  test("a sampler that hangs is timed out, reported once, never run twice at once, and recovers", async () => {
    const failures: string[] = [];
    const samples: number[] = [];
    let recovered = 0;
    let hang = true;
    let release: (() => void) | null = null;
    const r = new SamplerRunner<number>(
      "nvidia-smi",
      () =>
        hang
          ? new Promise<number>((resolve) => {
              release = () => resolve(1);
            })
          : Promise.resolve(2),
      1000,
      50,
      {
        onSample: (v) => samples.push(v),
        onFailure: (e) => failures.push(e),
        onRecovery: () => recovered++,
      },
    );
    await r.runOnce();
    await r.runOnce(); // the first call is still out: skipped, not stacked
    expect(failures).toEqual(["nvidia-smi: timed out after 0.05s"]);
    expect(r.counts).toMatchObject({ started: 1, skipped: 1, timedOut: 1 });
    hang = false;
    release!();
    await Bun.sleep(0);
    await r.runOnce();
    expect(samples).toEqual([2]); // the late answer of the timed-out call was dropped
    expect(recovered).toBe(1);
  });

  test("a rejecting sampler is reported once until it works", async () => {
    const failures: string[] = [];
    let fail = true;
    const r = new SamplerRunner<number>(
      "disk",
      async () => {
        if (fail) throw new Error("EACCES");
        return 1;
      },
      1000,
      1000,
      { onSample: () => {}, onFailure: (e) => failures.push(e) },
    );
    await r.runOnce();
    await r.runOnce();
    fail = false;
    await r.runOnce();
    fail = true;
    await r.runOnce();
    expect(failures).toEqual(["disk: EACCES", "disk: EACCES"]);
  });
});

describe("probes", () => {
  test("HTTP: 2xx and 3xx are healthy, 5xx and a refused connection are not", async () => {
    let status = 200;
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("x", { status }) });
    try {
      const url = `http://127.0.0.1:${server.port}/health`;
      expect(await httpProbe(url, 2000)).toEqual({ ok: true, detail: "HTTP 200" });
      status = 302;
      expect((await httpProbe(url, 2000)).ok).toBe(true);
      status = 503;
      expect(await httpProbe(url, 2000)).toEqual({ ok: false, detail: "HTTP 503" });
    } finally {
      server.stop(true);
    }
    const r = await httpProbe(`http://127.0.0.1:${server.port}/health`, 2000);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/^request failed/);
  });

  test("HTTP: a server that never answers times out", async () => {
    const srv = net.createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      expect(await httpProbe(`http://127.0.0.1:${port}/`, 100)).toEqual({
        ok: false,
        detail: "timed out after 0.1s",
      });
    } finally {
      srv.close();
    }
  });

  test("TCP connect", async () => {
    const srv = net.createServer((s) => s.end()).listen(0, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    const port = (srv.address() as net.AddressInfo).port;
    expect(await tcpProbe("127.0.0.1", port, 1000)).toEqual({ ok: true, detail: "connected" });
    await new Promise((r) => srv.close(r));
    expect(await tcpProbe("127.0.0.1", port, 1000)).toEqual({ ok: false, detail: "connect ECONNREFUSED" });
    expect(parseHostPort("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseHostPort("localhost")).toThrow(/host:port/);
  });
});

describe("sentinel files", () => {
  test("heartbeat mtime, status word and result", async () => {
    const dir = scratch({ ".status": "success\nall good\n", ".result": '{"acc": 0.9}' });
    fs.writeFileSync(path.join(dir, ".heartbeat"), "");
    const r = await readSentinels(dir);
    expect(r.status).toBe("SUCCESS");
    expect(r.result).toBe('{"acc": 0.9}');
    expect(r.heartbeatMs).toBe(fs.statSync(path.join(dir, ".heartbeat")).mtimeMs);
    expect(await readSentinels(scratch())).toEqual({
      heartbeatMs: null,
      status: null,
      statusMs: null,
      result: null,
    });
  });
});

describe("checkpoints", () => {
  test("the newest complete match: by step, skipping writes in progress, young files and unmarked dirs", async () => {
    const dir = scratch({
      "ckpt/step-100.pt": "a",
      "ckpt/step-900.pt": "b",
      "ckpt/step-1000.pt.tmp": "c",
      "ckpt/dir-2000/model.bin": "d",
      "ckpt/dir-1500/model.bin": "e",
      "ckpt/dir-1500/done": "",
    });
    const old = new Date(Date.now() - 60_000);
    for (const f of [
      "ckpt/step-100.pt",
      "ckpt/step-900.pt",
      "ckpt/dir-1500/model.bin",
      "ckpt/dir-1500/done",
      "ckpt/dir-1500",
      "ckpt/dir-2000/model.bin",
      "ckpt/dir-2000",
    ])
      fs.utimesSync(path.join(dir, f), old, old);
    // copied later: a newer mtime but an older step
    fs.utimesSync(
      path.join(dir, "ckpt/step-100.pt"),
      new Date(Date.now() - 30_000),
      new Date(Date.now() - 30_000),
    );
    const q = { glob: "ckpt/*", cwd: dir, stepRegex: null, completeMarker: "done", minAgeMs: 5000 };
    const all = await completeCheckpoints(q, Date.now());
    expect(all.map((c) => path.relative(dir, c.path))).toEqual([
      "ckpt/dir-1500",
      "ckpt/step-900.pt",
      "ckpt/step-100.pt",
    ]);
    expect(all[0]!.step).toBe(1500);
    // a file written just now is not complete yet
    fs.writeFileSync(path.join(dir, "ckpt/step-5000.pt"), "f");
    expect((await newestCheckpoint(q, Date.now()))!.step).toBe(1500);
    expect((await newestCheckpoint(q, Date.now() + 10_000))!.step).toBe(5000);
    expect(await newestCheckpoint({ ...q, glob: "none/*" }, Date.now())).toBeNull();
    expect(resumeArgs(["--resume", "{checkpoint}"], "/c/x")).toEqual(["--resume", "/c/x"]);
    expect(resumeArgs(["--resume={checkpoint}"], null)).toEqual([]);
  });
});

describe("series store", () => {
  test("non-finite values survive; the file stays between max and 2 × max points", () => {
    const dir = scratch();
    const s = new SeriesStore(dir, 10);
    expect(seriesFileName("samples/s")).toBe("samples_s.jsonl");
    s.append(
      "loss",
      [
        { at: 1, step: 1, value: 0.5 },
        { at: 2, step: 2, value: Number.NaN },
        { at: 3, step: null, value: Number.NEGATIVE_INFINITY },
      ],
      1,
    );
    const back = s.read("loss");
    expect(back[0]).toEqual({ at: 1, step: 1, value: 0.5, generation: 1 });
    expect(back[1]!.value).toBeNaN();
    expect(back[2]!.value).toBe(Number.NEGATIVE_INFINITY);
    expect(fs.readFileSync(s.file("loss"), "utf8").split("\n")[1]).toBe('{"t":2,"step":2,"v":"NaN","g":1}');
    for (let i = 0; i < 40; i++) s.append("loss", [{ at: 10 + i, step: 10 + i, value: i }], 2);
    const n = s.read("loss").length;
    expect(n).toBeGreaterThanOrEqual(10);
    expect(n).toBeLessThanOrEqual(20);
    expect(s.read("loss").at(-1)!.value).toBe(39);
    // a second store on the same directory (a restarted monitor) counts what is there
    const again = new SeriesStore(dir, 10);
    for (let i = 0; i < 30; i++) again.append("loss", [{ at: 100 + i, step: null, value: i }], 3);
    expect(again.read("loss").length).toBeLessThanOrEqual(20);
  });
});
