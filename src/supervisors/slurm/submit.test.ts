import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildSbatchArgv,
  expandFilenamePattern,
  mergeExport,
  outputFilesFromArgs,
  parseSbatchArgv,
  scriptDirectives,
} from "./submit.ts";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "slurm-submit-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}

describe("sbatch command line", () => {
  test("a bare script with arguments is submitted with sbatch; its arguments stay after it", () => {
    script("train.sbatch", "#!/bin/bash\necho hi\n");
    const b = buildSbatchArgv(["train.sbatch", "--lr", "0.1"], dir, [], {});
    expect(b.argv).toEqual(["sbatch", "train.sbatch", "--lr", "0.1"]);
    expect(b.scriptPath).toBe(path.join(dir, "train.sbatch"));
  });

  test("options with separate values, clusters and --opt=value are told from the script", () => {
    script("job.sh", "#!/bin/bash\n");
    const p = parseSbatchArgv([
      "sbatch",
      "-J",
      "x",
      "-HQ",
      "--time",
      "1",
      "--parsable",
      "-o",
      "o.log",
      "-n4",
      "job.sh",
      "-o",
      "arg",
    ]);
    expect(p.scriptIndex).toBe(10);
    expect(p.options.map((o) => [o.name, o.value])).toEqual([
      ["job-name", "x"],
      ["H", null],
      ["Q", null],
      ["time", "1"],
      ["parsable", null],
      ["output", "o.log"],
      ["n", "4"],
    ]);
  });

  test("the overlay is exported by name: the default mode ALL is made explicit", () => {
    script("job.sh", "#!/bin/bash\necho\n");
    const b = buildSbatchArgv(["sbatch", "--parsable", "job.sh"], dir, ["B", "A"], {});
    expect(b.argv).toEqual(["sbatch", "--export=ALL,A,B", "--parsable", "job.sh"]);
  });

  test("a command-line --export is extended in place (the last one wins, the others go)", () => {
    script("job.sh", "#!/bin/bash\n");
    const b = buildSbatchArgv(["sbatch", "--export", "ALL", "--export=NONE", "job.sh"], dir, ["BATCH"], {});
    expect(b.argv).toEqual(["sbatch", "--export=NONE,BATCH", "job.sh"]);
  });

  test("SBATCH_EXPORT, then the script's #SBATCH --export decide the mode", () => {
    script(
      "job.sh",
      "#!/bin/bash\n#SBATCH --export=NONE\n#SBATCH -o out-%j.log\necho\n#SBATCH --export=ALL\n",
    );
    expect(buildSbatchArgv(["job.sh"], dir, ["K"], {}).argv).toEqual(["sbatch", "--export=NONE,K", "job.sh"]);
    expect(buildSbatchArgv(["job.sh"], dir, ["K"], { SBATCH_EXPORT: "HOME" }).argv).toEqual([
      "sbatch",
      "--export=HOME,K",
      "job.sh",
    ]);
  });

  test("without overlay variables the command is left as written", () => {
    script("job.sh", "#!/bin/bash\n#SBATCH --export=NONE\n");
    expect(buildSbatchArgv(["sbatch", "job.sh"], dir, [], {}).argv).toEqual(["sbatch", "job.sh"]);
  });

  test("--wrap needs no script", () => {
    const b = buildSbatchArgv(["sbatch", "--wrap", "echo hi"], dir, ["K"], {});
    expect(b.argv).toEqual(["sbatch", "--export=ALL,K", "--wrap", "echo hi"]);
    expect(b.scriptPath).toBeNull();
  });

  test("--wait, job arrays, a missing script and an empty command are refused with the reason", () => {
    script("job.sh", "#!/bin/bash\n");
    script("arr.sh", "#!/bin/bash\n#SBATCH --array=1-4\n");
    expect(() => buildSbatchArgv(["sbatch", "-W", "job.sh"], dir, [], {})).toThrow(
      "sbatch --wait is not supported",
    );
    expect(() => buildSbatchArgv(["sbatch", "--array=1-3", "job.sh"], dir, [], {})).toThrow("job arrays");
    expect(() => buildSbatchArgv(["arr.sh"], dir, [], {})).toThrow("job arrays");
    expect(() => buildSbatchArgv(["nope.sh"], dir, [], {})).toThrow(
      `cannot read the batch script ${dir}/nope.sh: not found`,
    );
    expect(() => buildSbatchArgv(["sbatch", "--parsable"], dir, [], {})).toThrow("no batch script");
    expect(() => buildSbatchArgv([], dir, [], {})).toThrow("the command is empty");
  });

  test("mergeExport does not repeat names", () => {
    expect(mergeExport("ALL,A=1", ["A", "B"])).toBe("ALL,A=1,B");
    expect(mergeExport("", ["A"])).toBe("ALL,A");
  });
});

describe("output files", () => {
  test("#SBATCH directives stop at the first command", () => {
    const d = scriptDirectives(
      "#!/bin/bash\n# comment\n#SBATCH -J name  # trailing\n#SBATCH --output=x.log\necho\n#SBATCH -e never.log\n",
    );
    expect(d.map((o) => [o.name, o.value])).toEqual([
      ["job-name", "name"],
      ["output", "x.log"],
    ]);
  });

  test("patterns: %j %x %A %a %% and zero padding; node and task patterns are left alone", () => {
    expect(expandFilenamePattern("%x-%j.%5j.%A_%a.%%.%N.out", "42", "train")).toBe(
      "train-42.00042.42_4294967294.%.%N.out",
    );
  });

  test("from the command line, the script's directives and --chdir; default slurm-%j.out", () => {
    script("job.sh", "#!/bin/bash\n#SBATCH -o logs/%x-%j.out\n#SBATCH -e logs/%x-%j.err\n");
    const b = buildSbatchArgv(["sbatch", "-J", "train", "-D", "sub", "job.sh"], dir, [], {});
    expect(outputFilesFromArgs(b, "7", dir)).toEqual({
      stdout: path.join(dir, "sub/logs/train-7.out"),
      stderr: path.join(dir, "sub/logs/train-7.err"),
    });
    script("plain.sh", "#!/bin/bash\n");
    const p = buildSbatchArgv(["plain.sh"], dir, [], {});
    expect(outputFilesFromArgs(p, "8", dir)).toEqual({ stdout: path.join(dir, "slurm-8.out"), stderr: null });
  });
});
