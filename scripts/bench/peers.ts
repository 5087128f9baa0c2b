/**
 * @module
 * The peers autosentry is measured against, installed into a scratch folder when missing and driven
 * the way their own documentation says to: PM2 (from the npm registry, with its own PM2_HOME so the
 * user's daemon is never touched) and supervisord (Debian's `supervisor`, with a config file of its
 * own). Each contender can supervise one command and report the pids of its own processes (the
 * daemon, the monitor and its capture processes; never the child), so their cost can be summed.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = path.resolve(import.meta.dir, "../..");
export const BENCH = path.join(REPO, ".bench");
export const PM2_VERSION = "7.0.4";
const PEERS = path.join(BENCH, "peers");
export const PM2 = path.join(PEERS, "node_modules", ".bin", "pm2");
/** The binary under test: dist/autosentry, or $AUTOSENTRY_BIN (e.g. an older build, for before/after). */
export const AUTOSENTRY = process.env["AUTOSENTRY_BIN"] ?? path.join(REPO, "dist", "autosentry");

/** Run a command to completion; throws with its output when it fails. */
export function sh(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  const p = Bun.spawnSync(argv, {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) {
    throw new Error(`${argv.join(" ")} exited ${p.exitCode}: ${p.stderr.toString().slice(-2000)}`);
  }
  return p.stdout.toString();
}

/** Install what is missing: the build, PM2 into .bench/peers, supervisord with apt. */
export function ensurePeers(log: (s: string) => void): void {
  fs.mkdirSync(BENCH, { recursive: true });
  if (!fs.existsSync(AUTOSENTRY)) {
    log("building dist/autosentry");
    sh(["npm", "run", "--silent", "build"]);
  }
  if (!fs.existsSync(PM2)) {
    log(`installing pm2@${PM2_VERSION} into ${path.relative(REPO, PEERS)}`);
    fs.mkdirSync(PEERS, { recursive: true });
    sh(["npm", "install", "--no-audit", "--no-fund", "--prefix", PEERS, `pm2@${PM2_VERSION}`]);
  }
  if (!Bun.which("supervisord")) {
    log("installing supervisor with apt-get");
    sh(["apt-get", "install", "-y", "-qq", "supervisor"], { env: { DEBIAN_FRONTEND: "noninteractive" } });
  }
}

/** A supervisor under test, supervising one command in a scratch directory. */
export interface Contender {
  name: string;
  /** Start supervising `argv` with `env` added (restart at once on every exit, no caps). */
  start(argv: string[], env?: Record<string, string>): Promise<void>;
  /** The pids of the contender's own processes (not the supervised child or its descendants). */
  ownPids(): number[];
  /** Stop supervising, and the child with it; leaves nothing running. */
  stop(): Promise<void>;
}

/** Processes whose executable is `exe` (by /proc/PID/exe). */
export function pidsOfExe(exe: string): number[] {
  const real = fs.realpathSync(exe);
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readlinkSync(`/proc/${d}/exe`) === real) out.push(Number(d));
    } catch {}
  }
  return out;
}

/** The parent pid of `pid`, or null. */
function ppid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** The live children of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (/^\d+$/.test(d) && ppid(Number(d)) === pid) out.push(Number(d));
  }
  return out;
}

/** `pid` and every live descendant of it. */
export function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const p = ppid(Number(d));
    if (p !== null) children.set(p, [...(children.get(p) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

async function waitUntil(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * autosentry itself: `autosentry run` in a project whose config restarts at once, without caps.
 * `monitorEnv` is added to the monitor's environment (`AUTOSENTRY_CAPTURE=bun`: the Bun shim as
 * capture process instead of the native helper, for the before/after figure of issue 13). `bin`: a
 * copy of the binary, so that two monitors measured at once do not share page-cache pages (PSS).
 */
export function autosentry(
  dir: string,
  extraYaml = "",
  monitorEnv: Record<string, string> = {},
  bin: string = AUTOSENTRY,
): Contender {
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  return {
    name: "autosentry",
    async start(argv, childEnv = {}) {
      fs.mkdirSync(path.join(dir, ".autosentry"), { recursive: true });
      fs.writeFileSync(
        path.join(dir, ".autosentry", "autosentry.yaml"),
        `process:
  command: ${JSON.stringify(argv)}
  restart_policy:
    max_restarts: 0
    max_identical_failures: 0
    cooldown_seconds: 0
    backoff: fixed
    # a cap, so that the safety floor between uncapped restarts does not apply
    max_restarts_in_window: 1000000000
    restart_window_seconds: 1
vault: { enabled: false }
# the restart path alone: no coding agent (npm run puts node_modules/.bin, with claude, on PATH)
healing: { claude: { enabled: false } }
${extraYaml}`,
      );
      proc = Bun.spawn([bin, "run"], {
        cwd: dir,
        env: { ...process.env, ...monitorEnv, ...childEnv },
        stdout: "ignore",
        stderr: "ignore",
        stdin: "ignore",
      });
      await waitUntil("autosentry's child", () => fs.existsSync(path.join(dir, ".autosentry", "state.json")));
    },
    ownPids() {
      // The monitor and the processes it keeps (its children: the capture process, which runs the
      // autosentry binary or the native helper written out to the cache); not the job, which is
      // the capture process's child.
      if (proc === null) return [];
      const monitor = proc.pid;
      return [monitor, ...childrenOf(monitor)];
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(30_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      proc = null;
    },
  };
}

/** PM2 with a private PM2_HOME; `--max-restarts` lifted so that a crash loop is never stopped. */
export function pm2(dir: string): Contender & { env: Record<string, string> } {
  const env = { PM2_HOME: path.join(dir, "pm2-home") };
  return {
    name: "PM2",
    env,
    async start(argv, childEnv = {}) {
      fs.mkdirSync(env.PM2_HOME, { recursive: true });
      const [cmd, ...rest] = argv;
      sh(
        [
          PM2,
          "start",
          cmd!,
          "--name",
          "job",
          "--max-restarts",
          "1000000000",
          "--restart-delay",
          "0",
          "--interpreter",
          "none",
          ...(rest.length > 0 ? ["--", ...rest] : []),
        ],
        { cwd: dir, env: { ...env, ...childEnv } },
      );
    },
    ownPids() {
      try {
        return [Number(fs.readFileSync(path.join(env.PM2_HOME, "pm2.pid"), "utf8"))];
      } catch {
        return [];
      }
    },
    async stop() {
      try {
        sh([PM2, "kill"], { cwd: dir, env });
      } catch {}
    },
  };
}

/** supervisord with its own config: autorestart, startsecs=0, unlimited retries. */
export function supervisord(dir: string): Contender {
  const conf = path.join(dir, "supervisord.conf");
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  return {
    name: "supervisord",
    async start(argv, childEnv = {}) {
      fs.writeFileSync(
        conf,
        `[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}

[unix_http_server]
file=${dir}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${dir}/supervisor.sock

[program:job]
command=${argv.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(" ")}
directory=${dir}
autorestart=true
startsecs=0
startretries=1000000000
stopasgroup=true
killasgroup=true
`,
      );
      proc = Bun.spawn(["supervisord", "-c", conf], {
        cwd: dir,
        env: { ...process.env, ...childEnv },
        stdout: "ignore",
        stderr: "ignore",
      });
      await waitUntil("supervisord's socket", () => fs.existsSync(path.join(dir, "supervisor.sock")));
    },
    ownPids() {
      return proc ? [proc.pid] : [];
    },
    async stop() {
      if (!proc) return;
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(30_000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      proc = null;
    },
  };
}

/** `supervisorctl status` against a contender started by {@link supervisord}. */
export function supervisorctlArgv(dir: string): string[] {
  return ["supervisorctl", "-c", path.join(dir, "supervisord.conf"), "status"];
}

/** Resident set size in bytes of `pid` (0 when gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size in bytes of `pid` (0 when gone): pages shared with other processes (e.g.
 * the autosentry binary mapped by both the monitor and its capture process) counted once overall.
 */
export function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) of `pid` in clock ticks (0 when gone). */
export function cpuTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

export const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;
