/**
 * @module
 * Placeholder for the capture shim (built by the local supervisor work).
 */
export async function runShim(_args: string[]): Promise<number> {
  process.stderr.write("autosentry __shim: not built yet\n");
  return 1;
}
