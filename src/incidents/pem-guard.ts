/**
 * @module
 * A window of log lines (the incident's rolling excerpt, a tail in `explain`) can start inside a
 * PEM private-key block: the `-----BEGIN … PRIVATE KEY-----` line fell out of the window and only
 * the base64 body and the END line are left. The redactor recognises a block by its BEGIN line, so
 * such a headless body would pass. {@link redactHeadlessPem} hides it before the redactor runs.
 */

const END_LINE = /^.*-----END ([A-Z0-9 ]*(?:PRIVATE|ENCRYPTED)[A-Z0-9 ]*)-----.*$/;
/** Lines of a PEM body: base64 (possibly with a log prefix-free indent), RFC 1421 headers, blanks. */
const BODY_LINE = /^\s*(?:[A-Za-z0-9+/=]+|Proc-Type:.*|DEK-Info:.*)?\s*$/;

/**
 * Replace the body lines above an `-----END … PRIVATE KEY-----` line that has no BEGIN line above
 * it with one `[REDACTED]` line. Complete blocks are left to the redactor.
 */
export function redactHeadlessPem(text: string, marker = "[REDACTED]"): string {
  if (!text.includes("-----END ")) return text;
  const lines = text.split("\n");
  const open = new Set<string>();
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(line);
    if (begin) {
      open.add(begin[1]!);
      continue;
    }
    const end = END_LINE.exec(line);
    if (!end) continue;
    const label = end[1]!;
    if (open.delete(label)) continue;
    let j = i;
    while (j > 0 && BODY_LINE.test(lines[j - 1]!) && lines[j - 1] !== marker) j--;
    if (j === i) continue;
    lines.splice(j, i - j, marker);
    i = j + 1;
    changed = true;
  }
  return changed ? lines.join("\n") : text;
}
