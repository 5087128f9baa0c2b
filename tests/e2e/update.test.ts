/**
 * `autosentry update` with real release binaries (install-helpers.ts) from a loopback mirror, a
 * mirror directory and a fake GitHub API; including the case the design is for: a monitor that is
 * supervising a job while its own binary is replaced, and keeps supervising (the restarted job's
 * capture shim runs from the monitor's image, not from the new file on disk).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeGithub, startFakeGithub } from "../fakes/github-releases.ts";
import { journal, makeProject, REPO, readState, testEnv, waitFor } from "./helpers.ts";
import { extract, HOST_TARGETS, NEW, OLD, PRE, releaseFixture, sha256 } from "./install-helpers.ts";

const HOST = HOST_TARGETS[0]!;
let rel: string;
let gh: FakeGithub;
let scratch: string;
let cache: string;
let n = 0;
const monitors: Array<ReturnType<typeof Bun.spawn>> = [];

beforeAll(() => {
  rel = releaseFixture();
  gh = startFakeGithub({ owner: "acme", repo: "autosentry", token: "t0ken", mirrorDir: rel });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "as-update-"));
  cache = path.join(scratch, "cache");
}, 900_000);

afterAll(async () => {
  for (const p of monitors) {
    if (p.exitCode === null) p.kill("SIGKILL");
  }
  gh?.stop();
  if (!process.env.AUTOSENTRY_KEEP_TEST_DIRS && scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const mirror = () => `${gh.url}/mirror`;

/** A directory holding `version`'s binary as `autosentry` (as install.sh would leave it). */
function installed(version = OLD): { dir: string; bin: string; sum: string } {
  const dir = path.join(scratch, `bin-${++n}`);
  const bin = extract(path.join(rel, `v${version}`, `autosentry-${HOST}.tar.gz`), dir);
  return { dir, bin, sum: sha256(bin) };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function au(bin: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const p = Bun.spawn([bin, ...args], {
    cwd: scratch,
    env: testEnv({ XDG_CACHE_HOME: cache, ...env }),
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

function version(bin: string): string {
  return Bun.spawnSync([bin, "--version"], { stdout: "pipe" }).stdout.toString().trim();
}

/** Leftovers of an update in the binary's directory. */
function strays(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f !== "autosentry" && f !== "autosentry.previous");
}

describe("update --check / --json", () => {
  test("reports current, latest and is_outdated; the answer is cached for a day unless --no-cache", async () => {
    const { bin } = installed();
    const local = path.join(scratch, "mirror-copy");
    fs.cpSync(rel, local, { recursive: true, filter: (src) => !src.endsWith(".tar.gz") });
    let r = await au(bin, ["update", "--json", "--base-url", local]);
    expect(r.code).toBe(0);
    const first = JSON.parse(r.stdout);
    expect(first).toMatchObject({
      current: OLD,
      latest: NEW,
      is_outdated: true,
      target: HOST,
      channel: "stable",
      source: local,
      cached: false,
      error: null,
    });
    const stored = JSON.parse(fs.readFileSync(path.join(cache, "autosentry", "update-check.json"), "utf8"));
    expect(Object.values(stored.entries)).toEqual([{ checked_at: first.checked_at, latest: NEW }]);
    expect(stored).toMatchObject({ checked_at: first.checked_at, latest: NEW, allow_pre: false });

    // The mirror moves on; the cached answer does not, until --no-cache.
    fs.writeFileSync(path.join(local, "latest"), "1.5.0\n");
    r = await au(bin, ["update", "--json", "--base-url", local]);
    expect(JSON.parse(r.stdout)).toMatchObject({ latest: NEW, cached: true, checked_at: first.checked_at });
    r = await au(bin, ["update", "--json", "--base-url", local, "--no-cache"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ latest: "1.5.0", cached: false, is_outdated: true });

    r = await au(bin, ["update", "--check", "--base-url", mirror(), "--no-cache"]);
    expect(r.stdout.trim()).toBe(
      `autosentry ${NEW} is available (you have ${OLD}): run \`autosentry update\``,
    );
    expect(r.code).toBe(0);
    r = await au(bin, ["update", "--check", "--pre", "--base-url", mirror()]);
    expect(r.stdout.trim()).toBe(
      `autosentry ${PRE} is available (you have ${OLD}): run \`autosentry update\``,
    );
  });

  test("offline: exit 0 with the reason, latest null, nothing cached", async () => {
    const { bin } = installed();
    const xdg = path.join(scratch, `cache-off-${n}`);
    const r = await au(bin, ["update", "--json", "--base-url", "http://127.0.0.1:9"], {
      XDG_CACHE_HOME: xdg,
    });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ current: OLD, latest: null, is_outdated: false, cached: false });
    expect(j.error).toStartWith("Cannot reach http://127.0.0.1:9/latest: ");
    expect(fs.existsSync(path.join(xdg, "autosentry", "update-check.json"))).toBe(false);
    const c = await au(bin, ["update", "--check", "--base-url", "http://127.0.0.1:9"], {
      XDG_CACHE_HOME: xdg,
    });
    expect(c.code).toBe(0);
    expect(c.stdout).toStartWith("Cannot check for updates: Cannot reach http://127.0.0.1:9/latest: ");
  });

  test("GitHub releases through the API (the default source): latest, --pre, up to date", async () => {
    for (const v of [OLD, NEW, PRE]) {
      const p = Bun.spawn(
        [
          process.execPath,
          path.join(REPO, "scripts/release.ts"),
          "--publish-only",
          "--out",
          rel,
          "--version",
          v,
          "--repo",
          "acme/autosentry",
          "--api-url",
          gh.apiUrl,
        ],
        { cwd: REPO, stdout: "ignore", stderr: "pipe", env: { ...process.env, GITHUB_TOKEN: gh.token } },
      );
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect(err).toContain(`published`);
      expect(code).toBe(0);
    }
    const { bin, dir } = installed();
    const env = { AUTOSENTRY_GITHUB_API_URL: gh.apiUrl, AUTOSENTRY_REPO: "acme/autosentry" };
    let r = await au(bin, ["update", "--json", "--no-cache"], env);
    expect(JSON.parse(r.stdout)).toMatchObject({
      current: OLD,
      latest: NEW,
      is_outdated: true,
      source: `github:${gh.apiUrl}/acme/autosentry`,
    });
    expect(gh.log).toContain("GET /repos/acme/autosentry/releases/latest");
    r = await au(bin, ["update", "--json", "--no-cache", "--pre"], env);
    expect(JSON.parse(r.stdout)).toMatchObject({ latest: PRE, channel: "pre" });

    r = await au(bin, ["update"], env);
    expect(r.stderr).toContain(
      `downloading autosentry ${NEW} (${HOST}) from github:${gh.apiUrl}/acme/autosentry`,
    );
    expect(r.code).toBe(0);
    expect(version(bin)).toBe(NEW);
    expect(gh.log).toContain(`GET /acme/autosentry/releases/download/v${NEW}/autosentry-${HOST}.tar.gz`);
    r = await au(bin, ["update"], env);
    expect(r.stdout.trim()).toBe(`autosentry ${NEW} is up to date (latest is ${NEW})`);
    expect(strays(dir)).toEqual([]);
  });
});

describe("update: replace, pin, offline, roll back", () => {
  test("update to the latest keeps the old binary; --rollback restores it byte for byte, twice undoes it", async () => {
    const { dir, bin, sum } = installed();
    const original = path.join(scratch, `original-${n}`);
    fs.copyFileSync(bin, original);
    let r = await au(bin, ["update", "--base-url", mirror()]);
    expect(r.stdout.trim()).toBe(
      `autosentry updated ${OLD} -> ${NEW} (${bin}); the previous binary is ${bin}.previous ` +
        "(autosentry update --rollback restores it). Running monitors keep their version until restarted.",
    );
    expect(r.code).toBe(0);
    const newSum = sha256(bin);
    expect(version(bin)).toBe(NEW);
    expect(sha256(`${bin}.previous`)).toBe(sum);
    expect(strays(dir)).toEqual([]);

    r = await au(bin, ["update", "--rollback"]);
    expect(r.stdout.trim()).toBe(
      `autosentry rolled back ${NEW} -> ${OLD} (${bin}); ${bin}.previous now holds ${NEW} (--rollback again undoes this)`,
    );
    expect(r.code).toBe(0);
    expect(sha256(bin)).toBe(sum);
    expect(Buffer.compare(fs.readFileSync(bin), fs.readFileSync(original))).toBe(0);
    expect(sha256(`${bin}.previous`)).toBe(newSum);
    r = await au(bin, ["update", "--rollback"]);
    expect(r.code).toBe(0);
    expect(sha256(bin)).toBe(newSum);
    expect(strays(dir)).toEqual([]);
  });

  test("--rollback without a previous binary refuses", async () => {
    const { bin, sum } = installed();
    const r = await au(bin, ["update", "--rollback"]);
    expect(r.stderr.trim()).toBe(
      `autosentry update: Nothing to roll back to: ${bin}.previous does not exist`,
    );
    expect(r.code).toBe(1);
    expect(sha256(bin)).toBe(sum);
  });

  test("--version pins (also a downgrade), from a mirror directory", async () => {
    const { bin } = installed(NEW);
    const r = await au(bin, ["update", "--version", OLD, "--base-url", rel]);
    expect(r.code).toBe(0);
    expect(version(bin)).toBe(OLD);
    const again = await au(bin, ["update", "--version", OLD, "--base-url", rel]);
    expect(again.stdout.trim()).toBe(`autosentry ${OLD} is already installed (--force reinstalls)`);
  });

  test("--file: an archive with SHA256SUMS beside it; a bare binary needs --sha256 or --no-verify", async () => {
    const { dir, bin, sum } = installed();
    let r = await au(bin, ["update", "--file", path.join(rel, `v${NEW}`, `autosentry-${HOST}.tar.gz`)]);
    expect(r.code).toBe(0);
    expect(version(bin)).toBe(NEW);
    const bare = path.join(scratch, `bare-${n}`, "autosentry");
    fs.mkdirSync(path.dirname(bare), { recursive: true });
    fs.copyFileSync(`${bin}.previous`, bare);
    r = await au(bin, ["update", "--file", bare]);
    expect(r.stderr.trim()).toBe(
      "autosentry update: No checksum for autosentry (no SHA256SUMS entry): pass --sha256 HEX, or --no-verify to skip the check",
    );
    expect(r.code).toBe(1);
    r = await au(bin, ["update", "--file", bare, "--sha256", sum]);
    expect(r.code).toBe(0);
    expect(sha256(bin)).toBe(sum);
    r = await au(bin, [
      "update",
      "--file",
      path.join(rel, `v${NEW}`, `autosentry-${HOST}.tar.gz`),
      "--no-verify",
    ]);
    expect(r.code).toBe(0);
    expect(version(bin)).toBe(NEW);
    expect(strays(dir)).toEqual([]);
  });

  test("a checksum mismatch, a truncated download and a 404 each refuse and leave the binary as it was", async () => {
    const { dir, bin, sum } = installed();
    const archive = `autosentry-${HOST}.tar.gz`;
    const cases: Array<[() => void, string[], RegExp]> = [
      [
        () => gh.faults.set(archive, "corrupt"),
        [],
        new RegExp(
          `^autosentry update: Checksum mismatch for ${archive}: expected [0-9a-f]{64}, got [0-9a-f]{64} \\(corrupt or truncated; nothing was changed\\)$`,
        ),
      ],
      [() => gh.faults.set(archive, "truncate"), [], /^autosentry update: Checksum mismatch for /],
      [
        () => gh.faults.set(archive, "truncate"),
        ["--no-verify"],
        new RegExp(
          `^autosentry update: Cannot unpack ${archive}: damaged or truncated archive \\(.*\\); nothing was changed$`,
        ),
      ],
      [
        () => gh.faults.set(archive, "404"),
        [],
        new RegExp(
          `^autosentry update: Cannot download ${mirror()}/v${NEW}/${archive}: HTTP 404 \\(not found\\)$`,
        ),
      ],
      [
        () => {},
        ["--version", "9.9.9"],
        new RegExp(`^autosentry update: Cannot download ${mirror()}/v9.9.9/SHA256SUMS: HTTP 404`),
      ],
    ];
    for (const [fault, args, want] of cases) {
      fault();
      try {
        const r = await au(bin, ["update", "--base-url", mirror(), ...args]);
        expect(r.stderr.trim().split("\n").at(-1)).toMatch(want);
        expect(r.code).toBe(1);
      } finally {
        gh.faults.clear();
      }
      expect(sha256(bin)).toBe(sum);
      expect(version(bin)).toBe(OLD);
      expect(strays(dir)).toEqual([]);
    }
  });

  test("from source (bun main.ts) it refuses to replace anything, but --check works", async () => {
    const p = Bun.spawnSync([process.execPath, "--no-env-file", path.join(REPO, "main.ts"), "update"], {
      stdout: "pipe",
      stderr: "pipe",
      env: testEnv({ AUTOSENTRY_BASE_URL: rel }),
    });
    expect(p.stderr.toString().trim()).toBe(
      "Cannot update: this autosentry runs from source (bun main.ts); install a release with install.sh or rebuild with npm run build",
    );
    expect(p.exitCode).toBe(1);
    const c = Bun.spawnSync(
      [
        process.execPath,
        "--no-env-file",
        path.join(REPO, "main.ts"),
        "update",
        "--check",
        "--no-cache",
        "--base-url",
        rel,
      ],
      { stdout: "pipe", env: testEnv({ XDG_CACHE_HOME: cache }) },
    );
    const current = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).version;
    expect(c.stdout.toString().trim()).toBe(
      `autosentry ${NEW} is available (you have ${current}): run \`autosentry update\``,
    );
    expect(c.exitCode).toBe(0);
  });
});

describe("update while a monitor supervises", () => {
  // Both capture implementations: the Bun shim runs the monitor's own image (/proc/self/exe), the
  // native helper is the one embedded in the monitor's image, written out under its version.
  test.each(["bun", "native"] as const)(
    "capture %s: a job that crashes after the update is restarted by a capture process of the monitor's own version, and completes",
    async (impl) => {
      const { dir: binDir, bin } = installed(OLD);
      const project = makeProject(
        {
          "job.sh": `#!/bin/sh
# generation 1 waits for "go" and crashes; generation 2 reports its capture shim and waits for "finish"
if [ ! -f crashed ]; then
  touch gen1-started
  while [ ! -f go ]; do sleep 0.05; done
  touch crashed
  echo "crashing on purpose" >&2
  exit 3
fi
echo $PPID > gen2.shim
while [ ! -f finish ]; do sleep 0.05; done
echo "finished"
exit 0
`,
        },
        `process:
  command: [sh, job.sh]
  restart_policy: { cooldown_seconds: 0.2 }
`,
      );
      const monitor = Bun.spawn([bin, "run"], {
        cwd: project,
        env: testEnv({ XDG_CACHE_HOME: cache, ...(impl === "bun" ? { AUTOSENTRY_CAPTURE: "bun" } : {}) }),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      monitors.push(monitor);
      const out = new Response(monitor.stdout).text();
      const err = new Response(monitor.stderr).text();
      await waitFor("generation 1 to start", () => fs.existsSync(path.join(project, "gen1-started")), 60_000);
      const oldIno = fs.statSync(bin).ino;
      expect(fs.statSync(`/proc/${monitor.pid}/exe`).ino).toBe(oldIno);

      // Replace the binary the monitor runs from (it is executing it right now: no ETXTBSY).
      const u = await au(bin, ["update", "--base-url", mirror()]);
      expect(u.stdout).toContain(`autosentry updated ${OLD} -> ${NEW} (${bin})`);
      expect(u.code).toBe(0);
      expect(version(bin)).toBe(NEW);
      const newIno = fs.statSync(bin).ino;
      expect(newIno).not.toBe(oldIno);
      expect(fs.statSync(`${bin}.previous`).ino).toBe(oldIno);

      // Now the job crashes; the monitor restarts it through a new capture shim.
      fs.writeFileSync(path.join(project, "go"), "");
      const shimPid = Number(
        await waitFor(
          "generation 2 to report its shim",
          () => {
            const f = path.join(project, "gen2.shim");
            return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : "";
          },
          60_000,
        ),
      );
      const cmdline = fs.readFileSync(`/proc/${shimPid}/cmdline`, "utf8").split("\0");
      expect(cmdline[1]).toBe("__shim");
      if (impl === "bun") {
        expect(cmdline[0]).toBe(bin); // ps shows the binary's name…
        expect(fs.statSync(`/proc/${shimPid}/exe`).ino).toBe(oldIno); // …but it runs the monitor's image
      } else {
        // The helper the old monitor embeds, written out under the old version (not the new binary's).
        const exe = fs.readlinkSync(`/proc/${shimPid}/exe`);
        expect(path.basename(exe)).toMatch(
          new RegExp(`^capture-${OLD.replaceAll(".", "\\.")}-[0-9a-f]{16}$`),
        );
        expect(path.dirname(exe)).toBe(path.join(cache, "autosentry"));
      }
      // The job can write its file before the monitor has recorded the launch: wait for the record.
      await waitFor("state.json to record generation 2", () => readState(project)?.generation === 2, 30_000);

      fs.writeFileSync(path.join(project, "finish"), "");
      const timer = setTimeout(() => monitor.kill("SIGKILL"), 60_000);
      const code = await monitor.exited;
      clearTimeout(timer);
      const stderr = await err;
      await out;
      expect(code).toBe(0);
      const st = readState(project)!;
      expect(st.phase).toBe("completed");
      expect(st.restarts_total).toBe(1);
      const events = journal(project).map((e) => e.event);
      expect(events.filter((e) => e === "child_started")).toHaveLength(2);
      expect(fs.readFileSync(path.join(project, ".autosentry", "logs", "process.log"), "utf8")).toContain(
        "finished",
      );
      expect(stderr).not.toContain("capture shim exited");
      expect(strays(binDir)).toEqual([]);
    },
    120_000,
  );
});
