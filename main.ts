/**
 * autosentry's entry point: argv → src/cli. No logic lives here.
 *
 * The capture shim (`__shim`) is dispatched before the CLI is loaded so that the process that sits
 * between a supervised child and its log stays small and starts fast. `--version` alone is answered
 * here too (the CLI's start-up cost is for the commands that need it; the output is commander's).
 */
if (process.argv[2] === "__shim") {
  const { runShim } = await import("./src/supervisors/local/shim.ts");
  process.exitCode = await runShim(process.argv.slice(3));
} else if (
  ["--version", "-V", "-v", "version"].includes(process.argv[2] ?? "") &&
  process.argv.length === 3
) {
  const { VERSION } = await import("./src/cli/version.ts");
  process.stdout.write(`${VERSION}\n`);
} else {
  const { main } = await import("./src/cli/program.ts");
  process.exitCode = await main(process.argv);
}

export {};
