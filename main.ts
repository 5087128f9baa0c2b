/**
 * autosentry's entry point: argv → src/cli. No logic lives here.
 *
 * The capture shim (`__shim`) is dispatched before the CLI is loaded so that the process that sits
 * between a supervised child and its log stays small and starts fast.
 */
if (process.argv[2] === "__shim") {
  const { runShim } = await import("./src/supervisors/local/shim.ts");
  process.exitCode = await runShim(process.argv.slice(3));
} else {
  const { main } = await import("./src/cli/program.ts");
  process.exitCode = await main(process.argv);
}

export {};
