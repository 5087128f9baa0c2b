/**
 * @module
 * Idle memory of several builds side by side (issue 13, attributing the idle footprint): each build
 * runs `autosentry run` supervising `sleep` (as compare.ts's idle figure does), all of them at once,
 * the start order rotated every round; after `--seconds` the monitor and its capture process are
 * read from /proc: RSS, its anonymous and file-backed parts, the threads, and the monitor's
 * mappings grouped (the executable, the heap, other anonymous mappings by size, other files).
 *
 * ```
 * bun scripts/bench/idle-rss.ts [--runs N] [--seconds S] [--maps] LABEL=BINARY …
 * ```
 * Prints a Markdown table of medians (min–max) per build; `--maps` adds the monitor's mapping groups
 * of the last round. Not part of `npm run bench`: a tool for bisecting and before/after figures.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { autosentry, type Contender, childrenOf } from "./peers.ts";
import { median } from "./run-table.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt("--runs", 3);
const SECONDS = opt("--seconds", 12);
const MAPS = args.includes("--maps");
/** `--default-config`: a config naming only the command (vault and agent at their defaults). */
const DEFAULT_CONFIG = args.includes("--default-config");
const builds = args
  .filter((a) => a.includes("="))
  .map((a) => a.split("=", 2) as [string, string])
  .map(([l, b]) => [l, path.resolve(b)] as [string, string]);
if (builds.length === 0) {
  console.error("usage: bun scripts/bench/idle-rss.ts [--runs N] [--seconds S] [--maps] LABEL=BINARY …");
  process.exit(2);
}

/** kB fields of /proc/PID/status. */
function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of fs.readFileSync(`/proc/${pid}/status`, "utf8").matchAll(/^(\w+):\s+(\d+)( kB)?$/gm)) {
      out[m[1]!] = Number(m[2]);
    }
  } catch {}
  return out;
}

/** The monitor's resident kB per mapping group, from /proc/PID/smaps. */
function mapGroups(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let exe = "";
  try {
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
    const text = fs.readFileSync(`/proc/${pid}/smaps`, "utf8");
    let group = "";
    for (const line of text.split("\n")) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        const size = (Number.parseInt(head[2]!, 16) - Number.parseInt(head[1]!, 16)) / 1024;
        const name = head[3]!;
        if (name === exe) group = "file: the executable";
        else if (name.startsWith("/")) group = `file: ${path.basename(name)}`;
        else if (name === "") {
          group = size <= 132 ? "anon ≤ 132 kB" : size <= 8200 ? "anon 136 kB–8 MB" : "anon > 8 MB";
        } else group = name;
        continue;
      }
      const rss = /^Rss:\s+(\d+) kB/.exec(line);
      if (rss) out[group] = (out[group] ?? 0) + Number(rss[1]);
    }
  } catch {}
  return out;
}

/** `autosentry run` with a config that names the command only, as a new user's first config. */
function plain(dir: string, bin: string): Contender {
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  return {
    name: "autosentry",
    async start(argv) {
      fs.mkdirSync(path.join(dir, ".autosentry"), { recursive: true });
      fs.writeFileSync(
        path.join(dir, ".autosentry", "autosentry.yaml"),
        `process:\n  command: ${JSON.stringify(argv)}\n`,
      );
      Bun.spawnSync(["git", "init", "-q"], { cwd: dir });
      proc = Bun.spawn([bin, "run"], { cwd: dir, stdout: "ignore", stderr: "ignore", stdin: "ignore" });
      const end = Date.now() + 30_000;
      while (!fs.existsSync(path.join(dir, ".autosentry", "state.json")) && Date.now() < end)
        await Bun.sleep(50);
    },
    ownPids: () => (proc ? [proc.pid, ...childrenOf(proc.pid)] : []),
    async stop() {
      if (!proc) return;
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(30_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      proc = null;
    },
  };
}

interface Sample {
  rssKb: number;
  monitorKb: number;
  monitorAnonKb: number;
  monitorFileKb: number;
  captureKb: number;
  threads: number;
  maps: Record<string, number>;
}

function sample(c: Contender): Sample {
  const [monitor, ...rest] = c.ownPids();
  const m = status(monitor!);
  const capture = rest.reduce((a, p) => a + (status(p)["VmRSS"] ?? 0), 0);
  return {
    rssKb: (m["VmRSS"] ?? 0) + capture,
    monitorKb: m["VmRSS"] ?? 0,
    monitorAnonKb: m["RssAnon"] ?? 0,
    monitorFileKb: m["RssFile"] ?? 0,
    captureKb: capture,
    threads: m["Threads"] ?? 0,
    maps: mapGroups(monitor!),
  };
}

const results = new Map<string, Sample[]>(builds.map(([l]) => [l, []]));
for (let r = 0; r < RUNS; r++) {
  const order = builds.map((_, i) => builds[(i + r) % builds.length]!);
  const started: Array<[string, Contender, string]> = [];
  try {
    for (const [label, bin] of order) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-idle-rss-"));
      const c = DEFAULT_CONFIG ? plain(dir, bin) : autosentry(dir, "", {}, bin);
      await c.start(["sleep", "100000"]);
      started.push([label, c, dir]);
    }
    await Bun.sleep(SECONDS * 1000);
    for (const [label, c] of started) results.get(label)!.push(sample(c));
  } finally {
    for (const [, c, dir] of started) {
      await c.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.error(`round ${r + 1}/${RUNS} done`);
}

const mb = (kb: number) => (kb / 1024).toFixed(1);
const cell = (xs: number[], f: (x: number) => string = mb) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
console.log(`\n${RUNS} rounds, ${SECONDS} s after start, MiB (median, min–max)\n`);
console.log("| build | monitor + capture | monitor | monitor anon | monitor file | capture | threads |");
console.log("|---|---|---|---|---|---|---|");
for (const [label, xs] of results) {
  console.log(
    `| ${label} | ${cell(xs.map((x) => x.rssKb))} | ${cell(xs.map((x) => x.monitorKb))} | ${cell(
      xs.map((x) => x.monitorAnonKb),
    )} | ${cell(xs.map((x) => x.monitorFileKb))} | ${cell(xs.map((x) => x.captureKb))} | ${cell(
      xs.map((x) => x.threads),
      String,
    )} |`,
  );
}
if (MAPS) {
  const groups = [...new Set([...results.values()].flatMap((xs) => Object.keys(xs.at(-1)!.maps)))].sort();
  console.log(`\nmonitor's resident kB by mapping group (last round)\n`);
  console.log(`| group | ${[...results.keys()].join(" | ")} |`);
  console.log(`|---|${[...results.keys()].map(() => "---").join("|")}|`);
  for (const g of groups) {
    console.log(`| ${g} | ${[...results.values()].map((xs) => xs.at(-1)!.maps[g] ?? 0).join(" | ")} |`);
  }
}
