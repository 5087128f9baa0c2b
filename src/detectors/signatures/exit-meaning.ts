/**
 * @module
 * What an exit code or a signal means, in words, for detection messages and signature
 * explanations: `137` → SIGKILL (likely the kernel OOM killer), `-11` (a launcher's way of saying
 * "killed by signal 11") → SIGSEGV, `124` → a `timeout` wrapper gave up.
 */

/** Signal numbers (Linux x86-64) and what each usually means for supervised work. */
const SIGNALS: Record<number, { name: string; meaning: string }> = {
  1: { name: "SIGHUP", meaning: "its terminal or session went away" },
  2: { name: "SIGINT", meaning: "interrupted (Ctrl-C)" },
  4: { name: "SIGILL", meaning: "an illegal instruction: a binary built for another CPU (AVX, arch flags)" },
  6: { name: "SIGABRT", meaning: "aborted: a failed assertion or an uncaught C++ exception" },
  7: {
    name: "SIGBUS",
    meaning: "a bus error: often too little shared memory (/dev/shm) or a truncated mmap'd file",
  },
  8: { name: "SIGFPE", meaning: "an arithmetic fault (integer division by zero)" },
  9: {
    name: "SIGKILL",
    meaning: "killed outright: most often the kernel OOM killer (host RAM), or the scheduler",
  },
  11: {
    name: "SIGSEGV",
    meaning: "a segmentation fault in native code (an extension, a driver, a library mismatch)",
  },
  13: { name: "SIGPIPE", meaning: "it wrote to a closed pipe" },
  15: { name: "SIGTERM", meaning: "asked to terminate: a scheduler time limit, preemption or an operator" },
};

/** `SIGKILL` for 9, `SIG<n>` for unknown numbers. */
export function signalName(n: number): string {
  return SIGNALS[n]?.name ?? `SIG${n}`;
}

/** What being killed by signal `n` usually means. */
export function signalMeaning(n: number): string {
  const s = SIGNALS[n];
  return s ? `${s.name}: ${s.meaning}` : `signal ${n}`;
}

/**
 * What an exit code means. Negative codes are how Python launchers (torchrun, deepspeed,
 * subprocess) report "killed by signal -code"; 128+n is how shells report it. Returns null for 0
 * and for codes that carry no conventional meaning (1, 2, … are the program's own).
 */
export function exitCodeMeaning(code: number): string | null {
  if (code < 0) return signalMeaning(-code);
  if (code === 124) return "the `timeout` wrapper stopped the command (its time limit ran out)";
  if (code === 126)
    return "the command was found but could not be executed (permissions, wrong binary format)";
  if (code === 127) return "command not found";
  if (code > 128 && code < 160) return signalMeaning(code - 128);
  return null;
}
