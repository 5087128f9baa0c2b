/**
 * install.sh and update.sh against a loopback server that serves a release directory built from
 * the real binaries (install-helpers.ts): as a static mirror, as a directory on disk, and as GitHub
 * releases (the fake speaks GitHub's download URLs and API; the releases are published into it by
 * scripts/release.ts itself). Every run is under dash, Debian's /bin/sh.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type FakeGithub, startFakeGithub } from "../fakes/github-releases.ts";
import { REPO, testEnv } from "./helpers.ts";
import {
  CROSS_TARGET,
  cpuinfo,
  extract,
  HOST_TARGETS,
  NEW,
  OLD,
  PRE,
  releaseFixture,
  sha256,
} from "./install-helpers.ts";

const INSTALL_SH = path.join(REPO, "install.sh");
const UPDATE_SH = path.join(REPO, "update.sh");
const DASH = "/usr/bin/dash";
const HOST = HOST_TARGETS[0]!;

let rel: string;
let gh: FakeGithub;
let scratch: string;
let n = 0;

beforeAll(() => {
  rel = releaseFixture();
  gh = startFakeGithub({ owner: "acme", repo: "autosentry", token: "t0ken", mirrorDir: rel });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "as-install-"));
}, 900_000);

afterAll(() => {
  gh?.stop();
  if (!process.env.AUTOSENTRY_KEEP_TEST_DIRS && scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A fresh HOME with an empty install dir. */
function home(): { home: string; bin: string } {
  const h = path.join(scratch, `home-${++n}`);
  fs.mkdirSync(h, { recursive: true });
  return { home: h, bin: path.join(h, ".local", "bin") };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function sh(
  script: string,
  args: string[],
  env: Record<string, string>,
  shell = DASH,
): Promise<Result> {
  const p = Bun.spawn([shell, script, ...args], {
    cwd: scratch,
    env: testEnv({ AUTOSENTRY_CPUINFO: cpuinfo(scratch, true), ...env }),
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
  const r = Bun.spawnSync([bin, "--version"], { stdout: "pipe" });
  return r.stdout.toString().trim();
}

/** The release target a stamped binary says it is. */
function targetOf(bin: string): string {
  const r = Bun.spawnSync([bin, "update", "--json", "--base-url", "/nonexistent"], {
    stdout: "pipe",
    env: testEnv(),
  });
  return JSON.parse(r.stdout.toString()).target;
}

/** Files in `dir` other than the binary and its `.previous`: leftovers of a failed run. */
function strays(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f !== "autosentry" && f !== "autosentry.previous");
}

const mirror = () => `${gh.url}/mirror`;

describe("install.sh: the script itself", () => {
  test("passes shellcheck -s sh", () => {
    const r = Bun.spawnSync(["shellcheck", "-s", "sh", INSTALL_SH, UPDATE_SH], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.stdout.toString() + r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("update.sh is install.sh in update mode (regenerated, not hand-edited)", () => {
    const r = Bun.spawnSync(
      [process.execPath, path.join(REPO, "scripts/release/gen-update-sh.ts"), "--check"],
      {
        stderr: "pipe",
      },
    );
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const a = fs.readFileSync(INSTALL_SH, "utf8").split("\n");
    const b = fs.readFileSync(UPDATE_SH, "utf8").split("\n");
    expect(b.filter((l) => !a.includes(l))).toEqual([
      "# GENERATED from install.sh by scripts/release/gen-update-sh.ts: edit install.sh, not this file.",
      "MODE=update",
    ]);
  });

  test("the release directory holds what the manifest says", () => {
    const dir = path.join(rel, `v${NEW}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest.version).toBe(NEW);
    expect(manifest.bun.version).toBe(Bun.version);
    const sums = fs.readFileSync(path.join(dir, "SHA256SUMS"), "utf8");
    for (const f of manifest.files) {
      expect(fs.statSync(path.join(dir, f.name)).size).toBe(f.size);
      expect(sha256(path.join(dir, f.name))).toBe(f.sha256);
      expect(sums).toContain(`${f.sha256}  ${f.name}\n`);
    }
    const targets = manifest.files
      .filter((f: { target: string | null }) => f.target)
      .map((f: { target: string }) => f.target);
    expect(targets).toEqual(CROSS_TARGET ? [...HOST_TARGETS, CROSS_TARGET] : HOST_TARGETS);
    expect(fs.readFileSync(path.join(rel, "latest"), "utf8")).toBe(`${NEW}\n`);
    expect(fs.readFileSync(path.join(rel, "latest-pre"), "utf8")).toBe(`${PRE}\n`);
  });

  test.if(CROSS_TARGET !== null)(
    "the cross-built linux-arm64 binary prints its version under qemu-user",
    () => {
      const bin = extract(
        path.join(rel, `v${NEW}`, `autosentry-${CROSS_TARGET}.tar.gz`),
        path.join(scratch, "arm64"),
      );
      const file = Bun.spawnSync(["file", "-b", bin], { stdout: "pipe" }).stdout.toString();
      expect(file).toContain("ARM aarch64");
      const r = Bun.spawnSync(["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", bin, "--version"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(r.stderr.toString()).toBe("");
      expect(r.stdout.toString().trim()).toBe(NEW);
    },
  );
});

describe("install.sh: sources", () => {
  test("fresh install from an HTTP mirror into ~/.local/bin: latest version, PATH hint, nothing left over", async () => {
    const h = home();
    const r = await sh(INSTALL_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror() });
    expect(r.stderr).toContain(`autosentry ${NEW} installed to ${h.bin}/autosentry`);
    expect(r.stderr).toContain(`${h.bin} is not on your PATH`);
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(NEW);
    expect(fs.statSync(path.join(h.bin, "autosentry")).mode & 0o777).toBe(0o755);
    expect(strays(h.bin)).toEqual([]);
    expect(targetOf(path.join(h.bin, "autosentry"))).toBe(HOST);
  });

  test("no PATH hint when the directory is on PATH", async () => {
    const h = home();
    const r = await sh(INSTALL_SH, [], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
      PATH: `${h.bin}:${process.env.PATH}`,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("not on your PATH");
  });

  test("AUTOSENTRY_VERSION pins a version; --version too, with or without a v", async () => {
    const h = home();
    let r = await sh(INSTALL_SH, [], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
      AUTOSENTRY_VERSION: OLD,
    });
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(OLD);
    r = await sh(INSTALL_SH, ["--version", `v${NEW}`], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror() });
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(NEW);
  });

  test("a mirror that is a directory (a shared filesystem), and --pre takes the prerelease", async () => {
    const h = home();
    const r = await sh(INSTALL_SH, ["--pre"], { HOME: h.home, AUTOSENTRY_BASE_URL: rel });
    expect(r.stderr).toContain(`installed to ${h.bin}/autosentry`);
    expect(version(path.join(h.bin, "autosentry"))).toBe(PRE);
  });

  test("GitHub releases (the default source), published by scripts/release.ts --publish-only", async () => {
    for (const v of [OLD, NEW, PRE]) {
      // Async: the fake answers from this process, so a blocking spawn would deadlock.
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
        { cwd: REPO, stdout: "pipe", stderr: "pipe", env: { ...process.env, GITHUB_TOKEN: gh.token } },
      );
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect(err).toContain(`published ${gh.url}/acme/autosentry/releases/tag/v${v}`);
      expect(code).toBe(0);
    }
    expect(gh.releases.map((r) => [r.tag_name, r.draft, r.prerelease])).toEqual([
      [`v${OLD}`, false, false],
      [`v${NEW}`, false, false],
      [`v${PRE}`, false, true],
    ]);
    const h = home();
    const env = { HOME: h.home, AUTOSENTRY_GITHUB_URL: gh.webUrl, AUTOSENTRY_REPO: "acme/autosentry" };
    let r = await sh(INSTALL_SH, [], env);
    expect(r.stderr).toContain(`autosentry ${NEW} installed`);
    expect(r.code).toBe(0);
    expect(gh.log).toContain("GET /acme/autosentry/releases/latest/download/VERSION");
    expect(gh.log).toContain(`GET /acme/autosentry/releases/download/v${NEW}/autosentry-${HOST}.tar.gz`);
    r = await sh(INSTALL_SH, ["--pre"], { ...env, AUTOSENTRY_GITHUB_API_URL: gh.apiUrl });
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(PRE);
  });

  test("offline --file: the archive (SHA256SUMS beside it), or the bare binary with --sha256", async () => {
    const h = home();
    const archive = path.join(rel, `v${OLD}`, `autosentry-${HOST}.tar.gz`);
    let r = await sh(INSTALL_SH, ["--file", archive], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: "http://127.0.0.1:9",
    });
    expect(r.stderr).toContain(`autosentry ${OLD} installed`);
    expect(r.code).toBe(0);

    // A bare binary somewhere without a SHA256SUMS: refused without a checksum…
    const bare = extract(
      path.join(rel, `v${NEW}`, `autosentry-${HOST}.tar.gz`),
      path.join(scratch, `bare-${n}`),
    );
    r = await sh(INSTALL_SH, ["--file", bare], { HOME: h.home });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toBe(
      "autosentry install: no checksum for autosentry (no SHA256SUMS entry): pass --sha256 HEX, or --no-verify to skip the check",
    );
    expect(version(path.join(h.bin, "autosentry"))).toBe(OLD);
    // …accepted with the right one, or explicitly without.
    r = await sh(INSTALL_SH, ["--file", bare, "--sha256", sha256(bare).toUpperCase()], { HOME: h.home });
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(NEW);
    const bareOld = extract(
      path.join(rel, `v${OLD}`, `autosentry-${HOST}.tar.gz`),
      path.join(scratch, `bare-old-${n}`),
    );
    r = await sh(INSTALL_SH, ["--file", bareOld, "--no-verify"], { HOME: h.home });
    expect(r.code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(OLD);
  });

  test("piped into sh (curl … | sh -s -- ARGS), with wget when there is no curl", async () => {
    // A PATH with everything of /usr/bin and /bin except curl.
    const nocurl = path.join(scratch, "nocurl");
    fs.mkdirSync(nocurl, { recursive: true });
    for (const d of ["/usr/bin", "/bin"]) {
      for (const f of fs.readdirSync(d)) {
        if (f === "curl" || fs.existsSync(path.join(nocurl, f))) continue;
        fs.symlinkSync(path.join(d, f), path.join(nocurl, f));
      }
    }
    const h = home();
    const p = Bun.spawn([DASH, "-c", `cat "${INSTALL_SH}" | sh -s -- --version ${OLD} --dir "${h.bin}"`], {
      env: testEnv({
        PATH: nocurl,
        HOME: h.home,
        AUTOSENTRY_BASE_URL: mirror(),
        AUTOSENTRY_CPUINFO: cpuinfo(scratch, true),
      }),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(err).toContain(`autosentry ${OLD} installed to ${h.bin}/autosentry`);
    expect(code).toBe(0);
    expect(version(path.join(h.bin, "autosentry"))).toBe(OLD);
  });
});

describe("install.sh: detection and idempotence", () => {
  // Baseline builds exist for x64 only.
  test.if(HOST === "linux-x64")(
    "a CPU without AVX2 gets the baseline build; with AVX2 the default one",
    async () => {
      const h = home();
      let r = await sh(INSTALL_SH, [], {
        HOME: h.home,
        AUTOSENTRY_BASE_URL: mirror(),
        AUTOSENTRY_CPUINFO: cpuinfo(scratch, false),
      });
      expect(r.stderr).toContain(`(linux-x64-baseline)`);
      expect(r.code).toBe(0);
      expect(targetOf(path.join(h.bin, "autosentry"))).toBe("linux-x64-baseline");
      expect(sha256(path.join(h.bin, "autosentry"))).toBe(
        JSON.parse(fs.readFileSync(path.join(rel, `v${NEW}`, "manifest.json"), "utf8")).files.find(
          (f: { target: string }) => f.target === "linux-x64-baseline",
        ).binary_sha256,
      );
      r = await sh(INSTALL_SH, ["--force"], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror() });
      expect(r.code).toBe(0);
      expect(targetOf(path.join(h.bin, "autosentry"))).toBe("linux-x64");
    },
  );

  test("musl is detected from ldd (and AUTOSENTRY_LIBC overrides): the musl build is asked for", async () => {
    const fake = path.join(scratch, "musl-ldd");
    fs.mkdirSync(fake, { recursive: true });
    // What Alpine's ldd prints for --version: on stderr, exit 1.
    fs.writeFileSync(
      path.join(fake, "ldd"),
      "#!/bin/sh\necho 'musl libc (x86_64)' >&2\necho 'Version 1.2.4' >&2\nexit 1\n",
      {
        mode: 0o755,
      },
    );
    const h = home();
    const want = `${HOST.replace(/-baseline$/, "")}-musl`;
    let r = await sh(INSTALL_SH, [], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
      PATH: `${fake}:${process.env.PATH}`,
    });
    // The fixture builds no musl binaries: the refusal names the target that was detected.
    expect(r.stderr.trim()).toBe(
      `autosentry install: release ${NEW} has no build for ${want} (set AUTOSENTRY_TARGET to pick another)`,
    );
    expect(r.code).toBe(2);
    r = await sh(INSTALL_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), AUTOSENTRY_LIBC: "musl" });
    expect(r.stderr).toContain(`no build for ${want}`);
    r = await sh(INSTALL_SH, [], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
      PATH: `${fake}:${process.env.PATH}`,
      AUTOSENTRY_TARGET: HOST,
    });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(h.bin, "autosentry"))).toBe(true);
  });

  test("running it twice is harmless: the second run changes nothing; --force reinstalls", async () => {
    const h = home();
    const env = { HOME: h.home, AUTOSENTRY_BASE_URL: mirror() };
    expect((await sh(INSTALL_SH, [], env)).code).toBe(0);
    const before = fs.statSync(path.join(h.bin, "autosentry"));
    const r = await sh(INSTALL_SH, [], env);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe(
      `autosentry ${NEW} is already installed at ${h.bin}/autosentry (--force reinstalls)`,
    );
    expect(fs.statSync(path.join(h.bin, "autosentry")).ino).toBe(before.ino);
    const f = await sh(INSTALL_SH, ["--force"], env);
    expect(f.code).toBe(0);
    expect(f.stderr).toContain(`autosentry ${NEW} is already installed at ${h.bin}/autosentry`);
    expect(version(path.join(h.bin, "autosentry"))).toBe(NEW);
    expect(strays(h.bin)).toEqual([]);
  });
});

describe("install.sh: every failure refuses and leaves the old binary working", () => {
  async function withOld(): Promise<{ h: ReturnType<typeof home>; sum: string }> {
    const h = home();
    const r = await sh(INSTALL_SH, ["--version", OLD], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror() });
    expect(r.code).toBe(0);
    return { h, sum: sha256(path.join(h.bin, "autosentry")) };
  }
  function unchanged(h: ReturnType<typeof home>, sum: string): void {
    expect(sha256(path.join(h.bin, "autosentry"))).toBe(sum);
    expect(version(path.join(h.bin, "autosentry"))).toBe(OLD);
    expect(strays(h.bin)).toEqual([]);
    expect(fs.readdirSync(scratch).filter((f) => f.startsWith("autosentry-install."))).toEqual([]);
  }
  const archive = `autosentry-${HOST}.tar.gz`;

  test("checksum mismatch (a flipped byte)", async () => {
    const { h, sum } = await withOld();
    gh.faults.set(archive, "corrupt");
    try {
      const r = await sh(INSTALL_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), TMPDIR: scratch });
      expect(r.code).toBe(3);
      const lines = r.stderr.trim().split("\n");
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^autosentry install: checksum mismatch for ${archive}: expected [0-9a-f]{64}, got [0-9a-f]{64} \\(corrupt or truncated; nothing was changed\\)$`,
        ),
      );
    } finally {
      gh.faults.clear();
    }
    unchanged(h, sum);
  });

  test("a truncated archive: refused by the checksum, and by tar under --no-verify", async () => {
    const { h, sum } = await withOld();
    gh.faults.set(archive, "truncate");
    try {
      let r = await sh(INSTALL_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), TMPDIR: scratch });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("checksum mismatch");
      unchanged(h, sum);
      r = await sh(INSTALL_SH, ["--no-verify"], {
        HOME: h.home,
        AUTOSENTRY_BASE_URL: mirror(),
        TMPDIR: scratch,
      });
      expect(r.code).toBe(4);
      expect(r.stderr.trim().split("\n").at(-1)).toBe(
        `autosentry install: cannot unpack ${archive}: damaged or truncated archive (nothing was changed)`,
      );
    } finally {
      gh.faults.clear();
    }
    unchanged(h, sum);
  });

  test("404: a version that does not exist, and an archive that is missing", async () => {
    const { h, sum } = await withOld();
    let r = await sh(INSTALL_SH, ["--version", "9.9.9"], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
      TMPDIR: scratch,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `autosentry install: cannot download ${mirror()}/v9.9.9/SHA256SUMS: no such release (9.9.9)?`,
    );
    gh.faults.set(archive, "404");
    try {
      r = await sh(INSTALL_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), TMPDIR: scratch });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n").at(-1)).toBe(
        `autosentry install: cannot download ${mirror()}/v${NEW}/${archive}`,
      );
    } finally {
      gh.faults.clear();
    }
    unchanged(h, sum);
  });

  test("no network at all: one line naming the way out", async () => {
    const { h, sum } = await withOld();
    const r = await sh(INSTALL_SH, [], {
      HOME: h.home,
      AUTOSENTRY_GITHUB_URL: "http://127.0.0.1:9",
      AUTOSENTRY_REPO: "acme/autosentry",
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "autosentry install: cannot find the latest release at http://127.0.0.1:9/acme/autosentry/releases (offline? use --file or AUTOSENTRY_BASE_URL)",
    );
    unchanged(h, sum);
  });

  test("bad usage is one line and exit 1", async () => {
    for (const [args, msg] of [
      [["--bogus"], "unknown option: --bogus (see --help)"],
      [["--sha256", "xyz"], "--sha256 must be 64 hex digits, got: xyz"],
      [["--file"], "--file needs a value"],
      [["--file", "/nonexistent.tar.gz"], "--file /nonexistent.tar.gz: no such file"],
    ] as const) {
      const r = await sh(INSTALL_SH, [...args], { HOME: home().home });
      expect(r.stderr.trim()).toBe(`autosentry install: ${msg}`);
      expect(r.code).toBe(1);
    }
    const r = await sh(INSTALL_SH, [], { HOME: home().home, AUTOSENTRY_OS: "SunOS" });
    expect(r.stderr.trim()).toBe(
      "autosentry install: unsupported operating system: SunOS (releases exist for Linux and macOS)",
    );
  });
});

describe("update.sh", () => {
  test("updates the install it finds on PATH, keeps the previous binary, and repairs a broken one", async () => {
    const h = home();
    const dir = path.join(h.home, "opt");
    let r = await sh(INSTALL_SH, ["--version", OLD, "--dir", dir], {
      HOME: h.home,
      AUTOSENTRY_BASE_URL: mirror(),
    });
    expect(r.code).toBe(0);
    const oldSum = sha256(path.join(dir, "autosentry"));
    const env = { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), PATH: `${dir}:${process.env.PATH}` };
    r = await sh(UPDATE_SH, [], env);
    expect(r.stderr).toContain(`autosentry ${NEW} installed to ${dir}/autosentry`);
    expect(r.code).toBe(0);
    expect(version(path.join(dir, "autosentry"))).toBe(NEW);
    expect(sha256(path.join(dir, "autosentry.previous"))).toBe(oldSum);
    r = await sh(UPDATE_SH, [], env);
    expect(r.stderr.trim()).toBe(
      `autosentry ${NEW} is already installed at ${dir}/autosentry (--force reinstalls)`,
    );

    // A binary too broken to update itself.
    fs.rmSync(path.join(dir, "autosentry"));
    fs.writeFileSync(path.join(dir, "autosentry"), "garbage", { mode: 0o755 });
    r = await sh(UPDATE_SH, [], env);
    expect(r.code).toBe(0);
    expect(version(path.join(dir, "autosentry"))).toBe(NEW);
  });

  test("without an install there is nothing to update", async () => {
    const h = home();
    const r = await sh(UPDATE_SH, [], { HOME: h.home, AUTOSENTRY_BASE_URL: mirror(), PATH: "/usr/bin:/bin" });
    expect(r.stderr.trim()).toBe(
      "autosentry update: no installed autosentry found (not on PATH, not in ~/.local/bin): run install.sh, or pass --dir",
    );
    expect(r.code).toBe(1);
  });
});
