/**
 * autosentry's entry point: argv → src/cli. No logic lives here.
 *
 * The capture shim (`__shim`) is dispatched before the CLI is loaded so that the process that sits
 * between a supervised child and its log stays small and starts fast. `--version` alone is answered
 * here too (the CLI's start-up cost is for the commands that need it; the output is commander's),
 * written without creating `process.stdout` (src/cli/output-errors.ts says why).
 */
if (process.argv[2] === "__shim") {
  const { runShim } = await import("./src/supervisors/local/shim.ts");
  process.exitCode = await runShim(process.argv.slice(3));
} else if (process.argv[2] === "__config") {
  // The monitor's config validation, in a child so the monitor never loads yaml and zod (issue 13).
  const { runConfigChild } = await import("./src/cli/config-isolated.ts");
  process.exitCode = await runConfigChild(process.argv.slice(3));
} else if (
  ["--version", "-V", "-v", "version"].includes(process.argv[2] ?? "") &&
  process.argv.length === 3
) {
  // Written to fd 1 directly: creating process.stdout costs Bun ~8 ms, half of this whole process.
  const { VERSION } = await import("./src/cli/version.ts");
  const { exitForOutputError, writeStdoutSync } = await import("./src/cli/output-errors.ts");
  try {
    writeStdoutSync(`${VERSION}\n`);
  } catch (err) {
    process.exitCode = exitForOutputError(err);
  }
} else {
  const { main } = await import("./src/cli/program.ts");
  process.exitCode = await main(process.argv);
}

export {};
