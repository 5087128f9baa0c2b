/**
 * @module
 * Release archives: `autosentry-<target>.tar.gz` (always: every login node has gzip) and
 * `autosentry-<target>.tar.xz` (when `xz` is on the build machine and the result is smaller). Each
 * holds one file, `autosentry`, mode 0755. The archives are reproducible: sorted, owner 0, a fixed
 * mtime (the commit's time), gzip without a name or timestamp.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ArchiveFile {
  name: string;
  format: "tar.gz" | "tar.xz";
  size: number;
  sha256: string;
}

/** Hex SHA-256 of a file. */
export async function sha256File(file: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  const reader = Bun.file(file).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
  }
  return h.digest("hex");
}

function haveCommand(cmd: string): boolean {
  return (
    Bun.spawnSync(["sh", "-c", `command -v ${cmd}`], { stdout: "ignore", stderr: "ignore" }).exitCode === 0
  );
}

async function pipeInto(tarArgs: string[], compressor: string[], out: string): Promise<void> {
  const fd = fs.openSync(out, "w", 0o644);
  try {
    const tar = Bun.spawn(tarArgs, { stdout: "pipe", stderr: "pipe" });
    const comp = Bun.spawn(compressor, { stdin: tar.stdout, stdout: fd, stderr: "pipe" });
    const [a, b] = await Promise.all([tar.exited, comp.exited]);
    if (a !== 0 || b !== 0) {
      const err = `${await new Response(tar.stderr).text()} ${await new Response(comp.stderr).text()}`.trim();
      throw new Error(`Cannot write ${out}: tar exited ${a}, ${compressor[0]} exited ${b}: ${err}`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Archive `binDir/autosentry` as `<outDir>/autosentry-<target>.tar.*`. `formats` lists what to try;
 * xz is skipped (with a note) when the tool is missing or the result is not smaller than gzip's.
 */
export async function archive(
  binDir: string,
  target: string,
  outDir: string,
  mtime: number,
  formats: Array<"tar.gz" | "tar.xz">,
  log: (s: string) => void,
  gzipLevel = 9,
): Promise<ArchiveFile[]> {
  const tarArgs = [
    "tar",
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    `--mtime=@${mtime}`,
    "-C",
    binDir,
    "-cf",
    "-",
    "autosentry",
  ];
  const made: ArchiveFile[] = [];
  for (const format of formats) {
    const name = `autosentry-${target}.${format}`;
    const out = path.join(outDir, name);
    if (format === "tar.xz" && !haveCommand("xz")) {
      log(`${name}: skipped (xz is not installed on this machine)`);
      continue;
    }
    await pipeInto(
      tarArgs,
      format === "tar.gz" ? ["gzip", `-${gzipLevel}`, "-n"] : ["xz", "-6", "-T0", "-c"],
      out,
    );
    const size = fs.statSync(out).size;
    const gz = made.find((m) => m.format === "tar.gz");
    if (format === "tar.xz" && gz !== undefined && size >= gz.size) {
      log(`${name}: dropped (${size} B is not smaller than the tar.gz)`);
      fs.rmSync(out);
      continue;
    }
    made.push({ name, format, size, sha256: await sha256File(out) });
  }
  return made;
}
