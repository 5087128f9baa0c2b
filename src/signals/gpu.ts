/**
 * @module
 * GPU readings through `nvidia-smi` (when it is on PATH): memory, utilisation and volatile
 * uncorrected ECC errors per GPU from one `--query-gpu` call in CSV. Values the driver reports as
 * `[N/A]` or `[Not Supported]` read as null. nvidia-smi has no query field for Xid errors: the
 * driver writes them to the kernel log (`NVRM: Xid (PCI:…): 79, …`), so Xid events are read from
 * the output of a configurable command (default `dmesg`, which needs kernel.dmesg_restrict=0 or
 * CAP_SYSLOG; a command that fails is reported once, like any sampler).
 */

export interface GpuReading {
  index: number;
  name: string;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  utilizationPercent: number | null;
  /** Volatile uncorrected ECC errors since the driver loaded (null: no ECC or not supported). */
  eccUncorrected: number | null;
}

/** The fields asked for, in order (parseGpuCsv reads them in this order). */
export const GPU_QUERY_FIELDS = [
  "index",
  "name",
  "memory.used",
  "memory.total",
  "utilization.gpu",
  "ecc.errors.uncorrected.volatile.total",
];

/** argv of the query (the program is configurable: a path, or a fake in tests). */
export function gpuQueryArgv(program: string): string[] {
  return [program, `--query-gpu=${GPU_QUERY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
}

function num(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const t = raw.trim();
  if (t === "" || t.startsWith("[") || /^n\/?a$/i.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** Parse `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output. Throws on nonsense. */
export function parseGpuCsv(text: string): GpuReading[] {
  const out: GpuReading[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split(",");
    const index = num(f[0]);
    if (index === null || f.length < GPU_QUERY_FIELDS.length) {
      throw new Error(`Cannot read nvidia-smi output: unexpected line ${JSON.stringify(line.slice(0, 200))}`);
    }
    out.push({
      index,
      name: (f[1] ?? "").trim(),
      memoryUsedMiB: num(f[2]),
      memoryTotalMiB: num(f[3]),
      utilizationPercent: num(f[4]),
      eccUncorrected: num(f[5]),
    });
  }
  return out;
}

/** Xid events in kernel-log text (`NVRM: Xid (PCI:0000:3b:00): 79, pid=…`): code and device. */
export function parseXidLines(text: string): { pci: string; code: number; line: string }[] {
  const out: { pci: string; code: number; line: string }[] = [];
  const re = /NVRM: Xid \((PCI:[^)]*)\): (\d+)[^\n]*/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push({ pci: m[1]!, code: Number(m[2]), line: m[0].trim() });
  }
  return out;
}
