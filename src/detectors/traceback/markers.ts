/**
 * @module
 * Recognisers for the lines that start a trace, shared by the detector (to open one) and the
 * parsers (to end an open trace when another one starts). Pure regexes, no parser state, so the
 * language files can import it without an import cycle.
 */

/** Python `Traceback (most recent call last):`, optionally an exception group's `+ Exception Group …`. */
export const PY_HEADER = /^(.*?)((?: *\+ )?(?:Exception Group )?Traceback \(most recent call last\):)\s*$/;
/** Python chain markers between the exceptions of a chained trace. */
export const PY_CHAIN_DURING = "During handling of the above exception, another exception occurred:";
export const PY_CHAIN_CAUSE = "The above exception was the direct cause of the following exception:";
/** Go `panic: …` / `fatal error: …` at the start of the line. */
export const GO_HEADER = /^(panic|fatal error): /;
/** Rust `thread 'main' panicked at …` (1.95 prints the thread id: `thread 'main' (1234) panicked at`). */
export const RUST_HEADER = /^(.*?)thread '([^']*)'(?: \(\d+\))? panicked at (.*)$/;
/** Java's uncaught-exception header. */
export const JAVA_HEADER = /^(.*?)Exception in thread "([^"]*)" (.*)$/;
/** A C++ exception that reached std::terminate (libtorch prints its c10 frames below). */
export const CPP_HEADER =
  /^(.*?)terminate called (?:after throwing an instance of '([^']+)'|without an active exception|recursively)/;
/** Python's faulthandler: `Fatal Python error: Segmentation fault`, then the threads' frames. */
export const PY_FATAL = /^(.*?)Fatal Python error: (.*)$/;
/** Node's old (v15–v18) unhandled-rejection line, printed without frames. */
export const NODE_LEGACY_REJECTION = /^\[UnhandledPromiseRejection: /;

/** True when `t` is a Python chain marker line. */
export function isPythonChainMarker(t: string): boolean {
  const s = t.trim();
  return s === PY_CHAIN_DURING || s === PY_CHAIN_CAUSE;
}

/**
 * True when the (prefix-free) line starts a new trace of any language; an open trace ends before
 * such a line. Frame lines are not starts.
 */
export function isTraceStart(t: string): boolean {
  return (
    PY_HEADER.test(t) ||
    GO_HEADER.test(t) ||
    RUST_HEADER.test(t) ||
    JAVA_HEADER.test(t) ||
    NODE_LEGACY_REJECTION.test(t) ||
    CPP_HEADER.test(t) ||
    PY_FATAL.test(t)
  );
}

/**
 * Every line that may start a trace contains one of these (prefixes still on). One regex is much
 * cheaper than a string search per needle; the detector set also folds it into its combined
 * pre-test.
 */
export const TRACE_TRIGGER =
  /Traceback \(|panic|fatal error: |Exception in thread| {4}at |\tat |File "|above exception|\[UnhandledPromise|terminate called|Fatal Python error/;

/**
 * The cheap test on the raw line (prefixes still on) that keeps the not-in-a-trace path fast: false
 * means the line cannot start a trace.
 */
export function mayStartTrace(raw: string): boolean {
  return TRACE_TRIGGER.test(raw);
}
