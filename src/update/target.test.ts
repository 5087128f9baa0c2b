import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { currentTarget, detectTarget } from "./target.ts";

const d = fs.mkdtempSync(path.join(os.tmpdir(), "upd-target-"));
const withAvx2 = path.join(d, "avx2");
const without = path.join(d, "old");
fs.writeFileSync(withAvx2, "flags\t\t: fpu sse2 avx avx2 bmi2\n");
fs.writeFileSync(without, "flags\t\t: fpu sse2 avx\n");

test.if(process.platform === "linux" && process.arch === "x64")(
  "x64: AVX2 picks the default build, its absence baseline; libc override",
  () => {
    expect(detectTarget({ AUTOSENTRY_CPUINFO: withAvx2, AUTOSENTRY_LIBC: "glibc" })).toBe("linux-x64");
    expect(detectTarget({ AUTOSENTRY_CPUINFO: without, AUTOSENTRY_LIBC: "glibc" })).toBe(
      "linux-x64-baseline",
    );
    expect(detectTarget({ AUTOSENTRY_CPUINFO: without, AUTOSENTRY_LIBC: "musl" })).toBe(
      "linux-x64-musl-baseline",
    );
    expect(detectTarget({ AUTOSENTRY_CPUINFO: path.join(d, "missing"), AUTOSENTRY_LIBC: "glibc" })).toBe(
      "linux-x64-baseline",
    );
  },
);

test("AUTOSENTRY_TARGET overrides; from source (no stamp) the target is detected", () => {
  expect(currentTarget({ AUTOSENTRY_TARGET: "linux-arm64-musl" })).toBe("linux-arm64-musl");
  expect(currentTarget({ AUTOSENTRY_CPUINFO: withAvx2 })).toBe(
    detectTarget({ AUTOSENTRY_CPUINFO: withAvx2 }),
  );
});
