/**
 * @module
 * The built-in signature pack: well-known ML/HPC failure lines, each with a stable name (rules
 * match on it), a kind and a one-line explanation for the report. A signature's regex is searched
 * in a log line (prefixes still on) and in the message of other detectors' detections (a
 * traceback's final exception), so a CUDA OOM traceback is named `cuda_oom` just like the bare
 * line. `standalone` signatures are failures on their own: the signature detector fires on the
 * line (the OOM killer's `Killed`, `Segmentation fault (core dumped)`, a launcher's summary) even
 * when no traceback exists. Order matters: the first match wins, so specific ones come first.
 *
 * The regexes are deliberately anchored on the shapes real tools print (`: Segmentation fault`,
 * `Killed` alone or after a progress bar) so that healthy lines that merely mention the words
 * (`installing segfault handler`, `Killed 0 stale workers`) do not fire.
 */
import { exitCodeMeaning, signalMeaning, signalName } from "./exit-meaning.ts";
import type { SignatureName } from "./names.ts";

export type SignatureKind =
  | "oom"
  | "gpu"
  | "communication"
  | "crash"
  | "launcher"
  | "jvm"
  | "data"
  | "timeout";

export interface SignatureDef {
  name: SignatureName;
  kind: SignatureKind;
  /** Searched in a line (log prefixes still on) and in other detections' messages. No flags. */
  re: RegExp;
  /** A line matching {@link re} is a failure on its own (not only a name for another detection). */
  standalone: boolean;
  /** The one-line explanation. */
  explain: (m: RegExpExecArray) => string;
  /** The exception type a standalone detection reports (the failure's own name for itself). */
  type?: (m: RegExpExecArray) => string | null;
}

/** `-9` / `137` in words, or a fallback. */
function code(c: string | undefined, fallback: string): string {
  const n = Number(c);
  if (c === undefined || !Number.isFinite(n)) return fallback;
  return exitCodeMeaning(n) ?? `exit code ${n} (the program's own failure status)`;
}

/** `SIGKILL` for a launcher's negative exit code (`-9`), null for a plain exit status. */
function codeSignal(c: string | undefined): string | null {
  const n = Number(c);
  return c !== undefined && n < 0 ? signalName(-n) : null;
}

/** srun's words for how a task ended, as a signal name. */
const SRUN_SIGNAL: Record<string, string> = {
  Killed: "SIGKILL",
  "Segmentation fault": "SIGSEGV",
  "Bus error": "SIGBUS",
  Aborted: "SIGABRT",
  Terminated: "SIGTERM",
};

/** Where a bare crash line comes from: start of line, after `: `, a pid, or the end of a progress bar. */
const CRASH_LEAD = String.raw`(?:^|: |\d |\] ?|\| ?|\s{2})`;
/**
 * What may follow the shell's crash word: nothing, ` (core dumped)`, or (bash / zsh job reports) two
 * or more spaces and the command. `Segmentation fault handler installed` is not a crash.
 */
const CRASH_TAIL = String.raw`(?: \(core dumped\))?(?:\.?\s*$| {2,}\S)`;

export const SIGNATURES: readonly SignatureDef[] = [
  {
    name: "cuda_oom",
    kind: "oom",
    re: /CUDA out of memory|CUDA error: out of memory|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|OOM when allocating tensor|RESOURCE_EXHAUSTED: Out of memory|HIP out of memory/,
    standalone: true,
    explain: () =>
      "GPU memory ran out: lower the batch size (or use gradient accumulation / checkpointing); PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True helps with fragmentation",
    type: (m) => (m[0].startsWith("CUDA out") ? "torch.OutOfMemoryError" : null),
  },
  {
    name: "cuda_illegal_memory_access",
    kind: "gpu",
    re: /an illegal memory access was encountered|cudaErrorIllegalAddress/,
    standalone: true,
    explain: () =>
      "a GPU kernel read or wrote out of bounds; the reported frame may be wrong (errors are asynchronous): rerun with CUDA_LAUNCH_BLOCKING=1",
  },
  {
    name: "cuda_device_assert",
    kind: "gpu",
    re: /device-side assert triggered|cudaErrorAssert/,
    standalone: true,
    explain: () =>
      "an assertion inside a GPU kernel failed, most often an index out of range (labels ≥ num_classes, embedding ids); rerun with CUDA_LAUNCH_BLOCKING=1 to find the op",
  },
  {
    name: "cuda_error",
    kind: "gpu",
    re: /CUDA error: (?!out of memory)[a-z]|CUDNN_STATUS_(?!SUCCESS)[A-Z_]+|CUBLAS_STATUS_(?!SUCCESS)[A-Z_]+|CUDA driver version is insufficient|no kernel image is available for execution/,
    standalone: true,
    explain: () =>
      "a CUDA runtime or library call failed: check the driver / CUDA / framework versions match the GPU, and rerun with CUDA_LAUNCH_BLOCKING=1",
  },
  {
    name: "gpu_hardware",
    kind: "gpu",
    re: /GPU has fallen off the bus|uncorrectable ECC error|NVRM: Xid \(/,
    standalone: true,
    explain: () =>
      "the GPU or its driver failed (Xid, ECC, fell off the bus): drain the node and restart elsewhere",
  },
  {
    name: "nccl_watchdog_timeout",
    kind: "communication",
    re: /Watchdog caught collective operation timeout|NCCL watchdog thread terminated|[Ww]atchdog.*timed? ?out.*NCCL|NCCL.*timed out after/,
    standalone: true,
    explain: () =>
      "a collective (all-reduce …) did not finish in time: one rank is stuck, slower (data, I/O) or died; compare the ranks' last lines, raise the timeout only if a step is legitimately slow",
  },
  {
    name: "nccl_error",
    kind: "communication",
    re: /NCCL error|DistBackendError|nccl(?:System|Internal|UnhandledCuda|Remote|InvalidUsage|InvalidArgument)Error|NCCL communicator was aborted/,
    standalone: true,
    explain: () =>
      "NCCL (GPU collective communication) failed: a peer rank died, the network/IB link broke, or ranks disagree; rerun with NCCL_DEBUG=INFO",
    type: (m) => (m[0] === "DistBackendError" ? "torch.distributed.DistBackendError" : null),
  },
  {
    name: "dataloader_worker_killed",
    kind: "oom",
    re: /DataLoader worker \(pid\(?s?\)? ?[\d, ]+\)? (?:is killed by signal|exited unexpectedly)|Unexpected bus error encountered in worker/,
    standalone: true,
    explain: () =>
      "a DataLoader worker process died: host RAM or /dev/shm ran out (too many workers or prefetch); lower num_workers or enlarge shared memory",
  },
  {
    name: "torchrun_child_failed",
    kind: "launcher",
    re: /ChildFailedError|failed \(exitcode: (-?\d+)\) local_rank: \d+|^\s*exitcode\s*: (-?\d+) \(pid: \d+\)/,
    standalone: true,
    explain: (m) =>
      `torchrun reports a worker's death; ${code(m[1] ?? m[2], "its exit code is in the Root Cause block")}; the worker's own error (if it printed one) is above`,
    type: (m) => codeSignal(m[1] ?? m[2]),
  },
  {
    name: "launcher_child_exit",
    kind: "launcher",
    re: /exits with return code = (-?[1-9]\d*)|returned non-zero exit status (-?\d+)|Process \S+ exited with (?:code|exit code) (-?[1-9]\d*)/,
    standalone: true,
    explain: (m) => `a launcher reports its child failed: ${code(m[1] ?? m[2] ?? m[3], "non-zero exit")}`,
    type: (m) => codeSignal(m[1] ?? m[2] ?? m[3]),
  },
  {
    name: "mpi_rank_failed",
    kind: "launcher",
    re: /noticed that process rank \d+ with PID \d+ on node \S+ exited on signal (\d+)|BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES|process returned\s*$|one or more processes exited with non-zero status/,
    standalone: true,
    explain: (m) =>
      m[1] !== undefined
        ? `an MPI rank was killed by ${signalMeaning(Number(m[1]))}`
        : "an MPI rank ended badly and mpirun aborted the job; the failing rank's own error is above",
    type: (m) => (m[1] !== undefined ? signalName(Number(m[1])) : null),
  },
  {
    name: "slurm_time_limit",
    kind: "timeout",
    re: /CANCELLED AT \S+ DUE TO TIME LIMIT|DUE TO TIME LIMIT \*\*\*/,
    standalone: true,
    explain: () =>
      "SLURM stopped the job at its time limit: checkpoint more often and resume, or ask for more time",
  },
  {
    name: "slurm_step_failed",
    kind: "launcher",
    re: /srun: error: \S+: tasks? [\d,-]+: (Exited with exit code (\d+)|Killed|Segmentation fault|Bus error|Aborted|Terminated)|\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT/,
    standalone: true,
    explain: (m) =>
      m[2] !== undefined
        ? `a SLURM task failed: ${code(m[2], "non-zero exit")}`
        : m[1] !== undefined
          ? `a SLURM task ended: ${m[1]}${m[1] === "Killed" ? " (SIGKILL: most often out of memory)" : ""}`
          : "SLURM cancelled the step (scancel, node failure or a sibling task's failure)",
    type: (m) => (m[1] !== undefined ? (SRUN_SIGNAL[m[1]] ?? null) : null),
  },
  {
    name: "oom_killer",
    kind: "oom",
    re: /(?:^|[\]|%:]) ?Killed\s*$|\b\d+ Killed {2,}\S|Out of memory: Kill(?:ed)? process|oom[-_]kill event|OOM[ -]Killed|: task [\d,-]+: Out Of Memory|is killed by signal: Killed/,
    standalone: true,
    explain: () =>
      "the kernel (or the cgroup / SLURM) OOM killer ended the process: host RAM, not GPU memory, ran out; lower the batch size, workers or cached data, or ask for more memory",
    type: () => "SIGKILL",
  },
  {
    name: "segfault",
    kind: "crash",
    re: new RegExp(`${CRASH_LEAD}[Ss]egmentation fault${CRASH_TAIL}|exited on signal 11\\b`),
    standalone: true,
    explain: () =>
      "native code crashed (SIGSEGV): an extension, driver or library-version mismatch; faulthandler (python -X faulthandler) shows the Python frame",
    type: () => "SIGSEGV",
  },
  {
    name: "bus_error",
    kind: "crash",
    re: new RegExp(`${CRASH_LEAD}Bus error${CRASH_TAIL}|exited on signal 7\\b`),
    standalone: true,
    explain: () =>
      "SIGBUS: usually /dev/shm too small (docker --shm-size) or a memory-mapped file truncated underneath",
    type: () => "SIGBUS",
  },
  {
    name: "illegal_instruction",
    kind: "crash",
    re: new RegExp(`${CRASH_LEAD}Illegal instruction${CRASH_TAIL}|exited on signal 4\\b`),
    standalone: true,
    explain: () => "SIGILL: a binary or wheel built for a newer CPU (AVX2/AVX-512) than this node's",
    type: () => "SIGILL",
  },
  {
    name: "cpp_terminate",
    kind: "crash",
    re: /terminate called (?:after throwing an instance of|without an active exception|recursively)/,
    standalone: true,
    explain: () =>
      "a C++ exception escaped to std::terminate and aborted the process; the `what()` line says why",
  },
  {
    name: "aborted",
    kind: "crash",
    re: new RegExp(`${CRASH_LEAD}Aborted${CRASH_TAIL}|exited on signal 6\\b|Fatal Python error: Aborted`),
    standalone: true,
    explain: () =>
      "SIGABRT: a failed assertion or an uncaught C++ exception in native code; the lines just above say which",
    type: () => "SIGABRT",
  },
  {
    name: "floating_point_exception",
    kind: "crash",
    re: new RegExp(`${CRASH_LEAD}Floating point exception${CRASH_TAIL}`),
    standalone: true,
    explain: () => "SIGFPE: an integer division by zero in native code",
    type: () => "SIGFPE",
  },
  {
    name: "process_manager_crash",
    kind: "launcher",
    re: /\[nodemon\] app crashed|PM2 .*App \[[^\]]*\] exited with code \[(\d+)\]|Errored, waiting for|\berrored\b.*\bpm2\b/,
    standalone: true,
    explain: (m) =>
      `the process manager reports the app crashed${m[1] !== undefined ? ` (${code(m[1], "")})` : ""}; its error is above`,
  },
  {
    name: "container_exit",
    kind: "launcher",
    re: /\bexited with code ([1-9]\d*)\b/,
    standalone: true,
    explain: (m) => `a container exited: ${code(m[1], "non-zero exit")}`,
  },
  {
    name: "jvm_oom",
    kind: "jvm",
    re: /java\.lang\.OutOfMemoryError|OutOfMemoryError: (?:Java heap space|GC overhead limit exceeded|Metaspace|Direct buffer memory|unable to create)/,
    standalone: true,
    explain: () =>
      "the JVM ran out of memory: raise -Xmx / spark.executor.memory, or reduce what is cached or collected",
    type: () => "java.lang.OutOfMemoryError",
  },
  {
    name: "jvm_class_missing",
    kind: "jvm",
    re: /NoClassDefFoundError|ClassNotFoundException|Could not find or load main class/,
    standalone: false,
    explain: () =>
      "a class is missing at run time: a dependency not on the classpath, or a jar version mismatch",
  },
  {
    name: "spark_job_aborted",
    kind: "jvm",
    re: /Job aborted due to stage failure|Task \S+ in stage \S+ failed \d+ times?; aborting job/,
    standalone: true,
    explain: () =>
      "a Spark stage failed after its retries and the job was aborted; the failed task's own exception follows `most recent failure`",
  },
  {
    name: "yarn_container_memory",
    kind: "oom",
    re: /Container killed by YARN for exceeding (?:physical )?memory limits|is running beyond (?:physical|virtual) memory limits/,
    standalone: true,
    explain: () =>
      "YARN killed a container for using more memory than it asked for: raise spark.executor.memoryOverhead (or mapreduce.*.memory.mb)",
  },
  {
    name: "hadoop_task_failed",
    kind: "launcher",
    re: /Task Id : attempt_\S+, Status : FAILED|Application application_\d+_\d+ failed \d+ times|Job failed as tasks failed/,
    standalone: true,
    explain: () =>
      "a Hadoop/YARN task attempt failed; the `Error:` line after it (or the container log) says why",
  },
  {
    name: "disk_full",
    kind: "data",
    re: /No space left on device|\[Errno 28\]|Disk quota exceeded/,
    standalone: true,
    explain: () => "the disk (or the quota) is full: free space where checkpoints / caches / temp files go",
  },
  {
    name: "exit_signal",
    kind: "crash",
    re: /^process (?:killed by SIG\w+|exited with code (?:1[3-5]\d))/,
    standalone: false,
    explain: () => "the process was killed by a signal",
  },
  {
    name: "exit_timeout",
    kind: "timeout",
    re: /^process exited with code 124\b/,
    standalone: false,
    explain: () => "the `timeout` wrapper stopped the command: its time limit ran out",
  },
];
