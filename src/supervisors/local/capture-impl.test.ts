import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildNative, hostTarget, NATIVE_OUT } from "../../../scripts/build-native.ts";
import { MemoryLogger } from "../../util/logger.ts";
import { describeCapture, PRUNE_GRACE_MS, resolveCapture } from "./capture-impl.ts";
import { LocalSupervisor } from "./local.ts";
import { nativeHelper } from "./test-capture-impls.ts";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "capture-impl-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// A real noexec filesystem (the test suite runs as root, as `npm test` needs anyway).
let noexec = "";
beforeAll(() => {
  noexec = fs.mkdtempSync(path.join(os.tmpdir(), "as-noexec-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=8m,noexec", "tmpfs", noexec]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs failed: ${r.stderr.toString()} (run as root)`);
});
afterAll(() => {
  Bun.spawnSync(["umount", noexec]);
  fs.rmSync(noexec, { recursive: true, force: true });
});

test("the helper is written out once (0755, named by content hash) and an existing copy is trusted only when its hash matches", async () => {
  const source = nativeHelper();
  const a = await resolveCapture({ runDir: dir, source, dirs: [path.join(dir, "cache")] });
  expect(a.kind).toBe("native");
  if (a.kind !== "native") return;
  expect(path.basename(a.path)).toMatch(/^capture-.+-[0-9a-f]{16}$/);
  expect(fs.statSync(a.path).mode & 0o777).toBe(0o755);
  expect(fs.readFileSync(a.path)).toEqual(fs.readFileSync(source));
  expect(a.command).toEqual([a.path]);
  // Tampered with (same size): replaced by the embedded content.
  const bytes = fs.readFileSync(a.path);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
  fs.writeFileSync(a.path, bytes);
  const b = await resolveCapture({ runDir: dir, source, dirs: [path.join(dir, "cache")] });
  expect(b).toEqual(a);
  expect(fs.readFileSync(a.path)).toEqual(fs.readFileSync(source));
  expect(fs.readdirSync(path.join(dir, "cache"))).toEqual([path.basename(a.path)]);
  // Writable by others: not trusted, replaced (and 0755 again).
  fs.chmodSync(a.path, 0o777);
  expect(await resolveCapture({ runDir: dir, source, dirs: [path.join(dir, "cache")] })).toEqual(a);
  expect(fs.statSync(a.path).mode & 0o777).toBe(0o755);
});

test("a noexec directory is skipped for the next one; with none left, the Bun shim is used and the reason says why", async () => {
  const source = nativeHelper();
  const next = await resolveCapture({ runDir: dir, source, dirs: [noexec, path.join(dir, "run")] });
  expect(next.kind).toBe("native");
  expect(next.kind === "native" && next.path.startsWith(path.join(dir, "run"))).toBe(true);
  const none = await resolveCapture({ runDir: dir, source, dirs: [noexec] });
  expect(none.kind).toBe("bun");
  expect(describeCapture(none)).toMatch(/^Bun shim \(cannot execute .*noexec/);
});

test("a build without a helper, an unwritable directory and AUTOSENTRY_CAPTURE=bun fall back to the Bun shim", async () => {
  const none = await resolveCapture({ runDir: dir, source: null, dirs: [dir] });
  expect(none).toMatchObject({ kind: "bun", reason: expect.stringMatching(/no native capture helper/) });
  const file = path.join(dir, "a-file");
  fs.writeFileSync(file, "");
  const unwritable = await resolveCapture({
    runDir: dir,
    source: nativeHelper(),
    dirs: [path.join(file, "sub")],
  });
  expect(unwritable).toMatchObject({ kind: "bun", reason: expect.stringMatching(/^cannot write /) });
  process.env["AUTOSENTRY_CAPTURE"] = "bun";
  try {
    const forced = await resolveCapture({ runDir: dir, source: nativeHelper(), dirs: [dir] });
    expect(forced).toMatchObject({ kind: "bun", reason: "AUTOSENTRY_CAPTURE=bun" });
  } finally {
    delete process.env["AUTOSENTRY_CAPTURE"];
  }
});

test("a supervisor whose helper cannot be executed runs its child through the Bun shim and logs why once", async () => {
  // From source, the "embedded" helper is dist/native/capture (what `npm run build` embeds): build it
  // if it is not there. The cache and run directories here are noexec, so it cannot run.
  if (!fs.existsSync(NATIVE_OUT)) expect(buildNative(hostTarget())).toBeNull();
  const prev = process.env["XDG_CACHE_HOME"];
  process.env["XDG_CACHE_HOME"] = path.join(noexec, "cache");
  const logger = new MemoryLogger();
  const lines: string[] = [];
  let exited = false;
  const sup = new LocalSupervisor({
    sink: {
      line: (t) => lines.push(t),
      exit: () => {
        exited = true;
      },
    },
    logDir: path.join(dir, "logs"),
    runDir: path.join(noexec, "run"),
    maxLineLength: 1000,
    processLogMaxBytes: 1e6,
    processLogBackups: 1,
    logger,
  });
  try {
    const rec = await sup.start({
      generation: 1,
      argv: ["sh", "-c", "echo hi"],
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
      envOverrides: {},
    });
    const end = Date.now() + 20_000;
    while (!exited && Date.now() < end) await Bun.sleep(20);
    expect(exited).toBe(true);
    expect(lines).toEqual(["hi"]);
    expect(sup.capture?.kind).toBe("bun");
    const said = logger.lines.filter((l) => l.includes("Capture process: "));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/Capture process: Bun shim \(cannot execute .*noexec/);
    expect(fs.readFileSync(`/proc/${rec.details["shimPid"]}/cmdline`, "utf8").split("\0")).toContain(
      "__shim",
    );
  } finally {
    await sup.close();
    if (prev === undefined) delete process.env["XDG_CACHE_HOME"];
    else process.env["XDG_CACHE_HOME"] = prev;
  }
});

test("writing a new copy prunes other builds' copies, except one a process runs, one just written or chosen, and the current one", async () => {
  const cache = path.join(dir, "cache");
  fs.mkdirSync(cache);
  const old = new Date(Date.now() - 2 * PRUNE_GRACE_MS);
  const put = (name: string, from = nativeHelper(), mtime: Date | null = old) => {
    const file = path.join(cache, name);
    fs.copyFileSync(from, file);
    fs.chmodSync(file, 0o755);
    if (mtime) fs.utimesSync(file, mtime, mtime);
    return file;
  };
  put("capture-0.1.0-0123456789abcdef"); // an older build's copy: removed
  put("capture-0.1.0-fedcba9876543210"); // another hash: removed
  const fresh = put("capture-0.2.0-00000000aaaaaaaa", nativeHelper(), null); // another build just chose it
  // another build's copy that a running process executes (a capture process of a live monitor)
  const inUse = put("capture-0.1.5-1111111111111111", "/bin/sleep");
  const runner = Bun.spawn([inUse, "60"]);
  const deadTmp = path.join(cache, ".capture-0.1.0-0123456789abcdef.tmp-999999999-abc123");
  fs.writeFileSync(deadTmp, "half a copy");
  const liveTmp = path.join(cache, `.capture-0.1.0-0123456789abcdef.tmp-${process.pid}-abc123`);
  fs.writeFileSync(liveTmp, "being written");
  fs.writeFileSync(path.join(cache, "notes.txt"), "not ours to remove");
  try {
    const a = await resolveCapture({ runDir: dir, source: nativeHelper(), dirs: [cache] });
    expect(a.kind).toBe("native");
    if (a.kind !== "native") return;
    expect(fs.readdirSync(cache).sort()).toEqual(
      [
        path.basename(a.path),
        path.basename(fresh),
        path.basename(inUse),
        path.basename(liveTmp),
        "notes.txt",
      ].sort(),
    );
    // Only a new copy prunes: with ours already there, an older copy written since stays.
    put("capture-0.0.9-2222222222222222");
    expect(await resolveCapture({ runDir: dir, source: nativeHelper(), dirs: [cache] })).toEqual(a);
    expect(fs.existsSync(path.join(cache, "capture-0.0.9-2222222222222222"))).toBe(true);
  } finally {
    runner.kill();
    await runner.exited;
  }
});

test("a helper copy removed between choosing and starting it (another build pruned it) is written out again and the child runs", async () => {
  if (!fs.existsSync(NATIVE_OUT)) expect(buildNative(hostTarget())).toBeNull();
  const prev = process.env["XDG_CACHE_HOME"];
  process.env["XDG_CACHE_HOME"] = path.join(dir, "cache");
  const logger = new MemoryLogger();
  const lines: string[] = [];
  let exited = false;
  const sup = new LocalSupervisor({
    sink: {
      line: (t) => lines.push(t),
      exit: () => {
        exited = true;
      },
    },
    logDir: path.join(dir, "logs"),
    runDir: path.join(dir, "run"),
    maxLineLength: 1000,
    processLogMaxBytes: 1e6,
    processLogBackups: 1,
    logger,
  });
  // The copy is removed right after the supervisor chose it, as a concurrent prune would.
  const s = sup as unknown as { chooseCapture(): Promise<void> };
  const choose = s.chooseCapture.bind(sup);
  let removed = "";
  s.chooseCapture = async () => {
    await choose();
    if (removed === "" && sup.capture?.kind === "native") {
      removed = sup.capture.path;
      fs.rmSync(removed);
    }
  };
  try {
    const rec = await sup.start({
      generation: 1,
      argv: ["sh", "-c", "echo hi"],
      cwd: dir,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
      envOverrides: {},
    });
    expect(removed).not.toBe("");
    const end = Date.now() + 20_000;
    while (!exited && Date.now() < end) await Bun.sleep(20);
    expect(exited).toBe(true);
    expect(lines).toEqual(["hi"]);
    expect(sup.capture).toMatchObject({ kind: "native", path: removed });
    expect(fs.existsSync(removed)).toBe(true);
    expect(fs.readlinkSync(`/proc/${rec.details["shimPid"]}/exe`)).toBe(removed);
  } finally {
    await sup.close();
    if (prev === undefined) delete process.env["XDG_CACHE_HOME"];
    else process.env["XDG_CACHE_HOME"] = prev;
  }
});
