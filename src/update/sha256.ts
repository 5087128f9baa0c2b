/**
 * @module
 * SHA-256 of a file, streamed (release archives are tens of megabytes).
 */
export async function sha256Hex(file: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(file).stream()) h.update(chunk);
  return h.digest("hex");
}
