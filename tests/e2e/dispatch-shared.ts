/**
 * @module
 * The job and config the chat end-to-end tests share (dispatch-slack, dispatch-discord).
 */

/** Fails with a CUDA OOM on its first launch, then runs until stopped. */
export const FLAKY_JOB = `echo $$ > child.pid
n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs
if [ "$n" = 1 ]; then echo "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB" >&2; sleep 0.2; exit 1; fi
while true; do echo "step $n BATCH_SIZE=$BATCH_SIZE"; sleep 0.5; done
`;

export const flakyConfig = (notifier: string, dispatch: string, extra = "") => `process:
  command: [sh, job.sh]
  env: { BATCH_SIZE: 64 }
  restart_policy: { cooldown_seconds: 0.2, max_restarts: 5 }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
rules:
  - name: oom_halve_batch
    match: { detector: oom }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
notifiers:
  - { kind: log }
${notifier}
dispatch:
${dispatch}
${extra}`;
