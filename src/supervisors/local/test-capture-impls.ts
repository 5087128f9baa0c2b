/**
 * @module
 * The two capture implementations the local supervision tests run against (issue 13): the Bun shim
 * (`autosentry __shim`, from source or `AUTOSENTRY_TEST_SELF=dist/autosentry`) and the native helper
 * (native/capture.c), compiled here from source into a temp dir with the build's own compiler flags
 * (scripts/build-native.ts). No C compiler is a failure, not a skip: CI installs gcc
 * (scripts/ci/tools-up.sh).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildNative, hostTarget } from "../../../scripts/build-native.ts";
import { selfCommand } from "../../util/self-command.ts";

export interface CaptureUnderTest {
  name: "bun" | "native";
  /** The command prefix; `__shim …` follows. */
  self(): string[];
}

let nativePath: string | null = null;

/** The native helper built from the current source (once per test process). */
export function nativeHelper(): string {
  if (nativePath !== null) return nativePath;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-native-capture-"));
  const out = path.join(dir, "capture");
  const why = buildNative(hostTarget(), out);
  if (why !== null) throw new Error(`Cannot test the native capture helper: ${why}`);
  nativePath = out;
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  return out;
}

/** `AUTOSENTRY_TEST_CAPTURE=bun|native` limits the run to one of them. */
export function capturesUnderTest(): CaptureUnderTest[] {
  const bunSelf = process.env["AUTOSENTRY_TEST_SELF"] ? [process.env["AUTOSENTRY_TEST_SELF"]] : selfCommand();
  const all: CaptureUnderTest[] = [
    { name: "bun", self: () => bunSelf },
    { name: "native", self: () => [nativeHelper()] },
  ];
  const only = process.env["AUTOSENTRY_TEST_CAPTURE"];
  return only ? all.filter((c) => c.name === only) : all;
}
