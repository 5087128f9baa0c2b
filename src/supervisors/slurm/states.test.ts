import { describe, expect, test } from "bun:test";
import {
  classifyOutcome,
  normaliseState,
  parseExitCode,
  parseSacct,
  parseSbatchOutput,
  parseScontrol,
  parseSqueue,
  scontrolOutcome,
  stateKind,
  terminalClass,
} from "./states.ts";

// Output captured from the SLURM 22.05 cluster of scripts/ci/slurm-up.sh.
const SCONTROL_FAILED =
  "JobId=11 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901749 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=2:0 RunTime=00:00:03 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-22T03:04:20 EligibleTime=2026-11-22T03:04:21 NodeList=vm BatchHost=vm NumNodes=1 Command=(null) WorkDir=/tmp/sx StdErr=/tmp/sx/rq-11.log StdIn=/dev/null StdOut=/tmp/sx/rq-11.log Power= \n";

describe("job states", () => {
  test("every documented state is active or terminal, long and compact spellings alike", () => {
    for (const s of [
      "PENDING",
      "PD",
      "RUNNING",
      "R",
      "CONFIGURING",
      "COMPLETING",
      "CG",
      "SUSPENDED",
      "REQUEUED",
      "REQUEUE_HOLD",
      "REQUEUE_FED",
      "RESIZING",
      "SIGNALING",
      "STAGE_OUT",
      "STOPPED",
      "RESV_DEL_HOLD",
    ]) {
      expect(stateKind(s)).toBe("active");
    }
    const expected: Record<string, string> = {
      COMPLETED: "success",
      CD: "success",
      FAILED: "failure",
      F: "failure",
      TIMEOUT: "timeout",
      TO: "timeout",
      OUT_OF_MEMORY: "oom",
      OOM: "oom",
      NODE_FAIL: "node_fail",
      NF: "node_fail",
      BOOT_FAIL: "node_fail",
      PREEMPTED: "preempted",
      PR: "preempted",
      CANCELLED: "cancelled",
      CA: "cancelled",
      DEADLINE: "cancelled",
      REVOKED: "cancelled",
      SPECIAL_EXIT: "failure",
    };
    for (const [s, c] of Object.entries(expected)) {
      expect(stateKind(s)).toBe("terminal");
      expect(terminalClass(s)).toBe(c as never);
    }
  });

  test("unknown and empty states are neither running nor done", () => {
    expect(stateKind("")).toBe("unknown");
    expect(stateKind("SOMETHING_NEW")).toBe("unknown");
    expect(terminalClass("RUNNING")).toBeNull();
  });

  test("state words are normalised: 'CANCELLED by 0', sacct's '+', compact codes, case", () => {
    expect(normaliseState("CANCELLED by 0")).toBe("CANCELLED");
    expect(normaliseState("RUNNING+")).toBe("RUNNING");
    expect(normaliseState(" cd ")).toBe("COMPLETED");
    expect(normaliseState("OOM")).toBe("OUT_OF_MEMORY");
  });
});

describe("outcomes", () => {
  const c = (state: string, exitCode: string | null, stopped = false) =>
    classifyOutcome({ state, exitCode, source: "test" }, stopped);

  test("FAILED carries the batch script's exit code", () => {
    expect(c("FAILED", "3:0")).toMatchObject({ exitClass: "failure", code: 3, signal: null });
    expect(c("FAILED", "3:0").detail).toBe("slurm state FAILED ExitCode=3:0 (test)");
  });

  test("a signal in ExitCode makes a FAILED job a signal death with 128+N", () => {
    expect(c("FAILED", "0:9")).toMatchObject({ exitClass: "signal", code: 137, signal: "SIGKILL" });
  });

  test("COMPLETED is the only success, with or without an exit code", () => {
    expect(c("COMPLETED", "0:0")).toMatchObject({ exitClass: "success", code: 0 });
    expect(c("COMPLETED", null)).toMatchObject({ exitClass: "success", code: 0 });
    expect(c("FAILED", null)).toMatchObject({ exitClass: "failure", code: null });
    expect(c("FAILED", "0:0")).toMatchObject({ exitClass: "failure", code: null });
  });

  test("scheduler outcomes keep their class; 0:0 is not an exit code", () => {
    expect(c("TIMEOUT", "0:0")).toMatchObject({ exitClass: "timeout", code: null });
    expect(c("PREEMPTED", "0:0")).toMatchObject({ exitClass: "preempted", code: null });
    expect(c("NODE_FAIL", "0:0")).toMatchObject({ exitClass: "node_fail", code: null });
    expect(c("OUT_OF_MEMORY", "0:125")).toMatchObject({ exitClass: "oom" });
    expect(c("CANCELLED", "0:15")).toMatchObject({ exitClass: "cancelled", code: 143, signal: "SIGTERM" });
    expect(c("DEADLINE", "0:0")).toMatchObject({ exitClass: "cancelled" });
    expect(c("BOOT_FAIL", "0:0")).toMatchObject({ exitClass: "node_fail" });
  });

  test("an ending the monitor asked for is 'stopped', whatever state it left", () => {
    expect(c("CANCELLED", "0:15", true).exitClass).toBe("stopped");
    expect(c("COMPLETED", "0:0", true).exitClass).toBe("stopped");
  });

  test("exit codes", () => {
    expect(parseExitCode("2:0")).toEqual({ code: 2, signal: 0 });
    expect(parseExitCode("")).toBeNull();
    expect(parseExitCode("n/a")).toBeNull();
  });
});

describe("parsers", () => {
  test("squeue: first word of the first line, with or without the reason column", () => {
    expect(parseSqueue("RUNNING|None\n")).toBe("RUNNING");
    expect(parseSqueue("\n  PENDING|BeginTime\n")).toBe("PENDING");
    expect(parseSqueue("PD\n")).toBe("PENDING");
    expect(parseSqueue("")).toBeNull();
    expect(parseSqueue("\n\n")).toBeNull();
  });

  test("sacct -c: one row per run of a requeued job, the last is newest; other jobs and steps skipped", () => {
    const out = "11|PENDING|0:0\n11|FAILED|2:0\n110|COMPLETED|0:0\n11.batch|FAILED|2:0\n";
    const rows = parseSacct(out, "11", "sacct -c");
    expect(rows.map((r) => r.state)).toEqual(["PENDING", "FAILED"]);
    expect(rows[1]).toEqual({ state: "FAILED", exitCode: "2:0", source: "sacct -c" });
  });

  test("sacct: 'CANCELLED by 0' keeps who cancelled it as a note", () => {
    const rows = parseSacct("12|CANCELLED by 0|0:0\n", "12", "sacct");
    expect(rows[0]).toEqual({ state: "CANCELLED", exitCode: "0:0", source: "sacct", note: "by 0" });
    expect(classifyOutcome(rows[0]!, false).detail).toBe("slurm state CANCELLED by 0 ExitCode=0:0 (sacct)");
  });

  test("scontrol show job -o", () => {
    const f = parseScontrol(SCONTROL_FAILED);
    expect(f["StdOut"]).toBe("/tmp/sx/rq-11.log");
    expect(f["Restarts"]).toBe("1");
    expect(f["NodeList"]).toBe("vm");
    expect(scontrolOutcome(SCONTROL_FAILED)).toEqual({
      state: "FAILED",
      exitCode: "2:0",
      source: "scontrol",
    });
    expect(scontrolOutcome("slurm_load_jobs error: Invalid job id specified")).toBeNull();
  });

  test("sbatch: classic and --parsable output, with a cluster", () => {
    expect(parseSbatchOutput("Submitted batch job 42\n")).toBe("42");
    expect(parseSbatchOutput("Submitted batch job 42 on cluster alpha\n")).toBe("42");
    expect(parseSbatchOutput("42\n")).toBe("42");
    expect(parseSbatchOutput("42;alpha\n")).toBe("42");
    expect(parseSbatchOutput("sbatch: warning: something\n43\n")).toBe("43");
    expect(parseSbatchOutput("")).toBeNull();
    expect(parseSbatchOutput("error\n")).toBeNull();
  });
});
