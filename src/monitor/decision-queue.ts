/**
 * @module
 * The monitor's serial decision queue. Decisions (settling a failure, handling an exit, applying an
 * action, an operator command, a scheduled launch) run one at a time in the order they were queued,
 * while lines keep flowing: healing never blocks ingestion. A decision that throws is reported and
 * the queue goes on; once the monitor has finished, queued decisions are dropped.
 */

export class DecisionQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    /** True once the monitor finished: later decisions are skipped. */
    private readonly closed: () => boolean,
    /** A decision threw (it is logged; nothing is rethrown). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Run `fn` after every earlier decision finished; errors are reported, never thrown. */
  run(fn: () => Promise<void> | void): Promise<void> {
    const next = this.tail.then(async () => {
      if (this.closed()) return;
      try {
        await fn();
      } catch (err) {
        this.onError(err);
      }
    });
    this.tail = next;
    return next;
  }
}
