/**
 * @module
 * The names of the built-in failure signatures (src/detectors/signatures/pack.ts), in one list
 * that imports nothing, so the config schema can validate `signatures.disabled` against it without
 * importing the detectors. The pack's unit test checks that both agree.
 */
export const SIGNATURE_NAMES = [
  "cuda_oom",
  "cuda_illegal_memory_access",
  "cuda_device_assert",
  "cuda_error",
  "gpu_hardware",
  "nccl_watchdog_timeout",
  "nccl_error",
  "dataloader_worker_killed",
  "oom_killer",
  "segfault",
  "bus_error",
  "illegal_instruction",
  "aborted",
  "floating_point_exception",
  "cpp_terminate",
  "torchrun_child_failed",
  "launcher_child_exit",
  "mpi_rank_failed",
  "slurm_step_failed",
  "slurm_time_limit",
  "process_manager_crash",
  "container_exit",
  "jvm_oom",
  "jvm_class_missing",
  "spark_job_aborted",
  "yarn_container_memory",
  "hadoop_task_failed",
  "disk_full",
  "exit_signal",
  "exit_timeout",
] as const;

export type SignatureName = (typeof SIGNATURE_NAMES)[number];
