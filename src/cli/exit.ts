/**
 * @module
 * Exit codes, and the error a command throws to end with one.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success (the child completed, or the command did what was asked) |
 * | 1 | autosentry gave up (max restarts, identical failures, rate cap, abort action) or a command failed |
 * | 2 | bad usage or a bad config file |
 * | 124 | a pipeline stage passed its deadline, or a run passed `process.max_run_seconds` |
 * | 126 | preflight failed (`run --check`, or a stage that cannot launch) |
 * | 130 | an operator aborted |
 * | 128+N | the monitor was stopped by signal N |
 * | other | the supervised child's own exit code, when autosentry stops because the child ended |
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  deadline: 124,
  preflight: 126,
  operatorAbort: 130,
} as const;

/** Throw to end the command with `code`, printing `message` (if any) to stderr. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
    this.name = "CliExit";
  }
}
