/**
 * @module
 * Judgements about a candidate secret *value*, shared by every redaction pass: the marker, what is
 * never worth hiding (empty, booleans, references to a variable, placeholders, already redacted),
 * what looks like code rather than data, and what looks like a random credential.
 */

/** What a hidden value is replaced with. */
export const REDACTED = "[REDACTED]";

/** Decides whether a candidate value must stay as written. */
export type KeepFn = (value: string) => boolean;

const NOT_SECRET = /^(?:true|false|null|none|nil|yes|no|on|off|undefined|~)$/i;

/**
 * `${HF_TOKEN}`, `$HF_TOKEN`, `{{ secrets.HF_TOKEN }}`, `%(token)s`, `<your-token>`, `****`, `xxxx`:
 * a reference to where the secret lives (useful evidence), not the secret.
 */
const REFERENCE =
  /^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|%\([A-Za-z_]\w*\)s|<[^<>]*>|\*+|x{3,}|X{3,})$/;

/** A value nobody needs hidden: empty, already redacted, a boolean/null, or a reference. */
export function isHarmless(value: string): boolean {
  return value.length === 0 || value.includes(REDACTED) || NOT_SECRET.test(value) || REFERENCE.test(value);
}

const CALL_OR_SUBSCRIPT = /^[A-Za-z_$][\w$.]*\s*[([]/;
const RECEIVER_CHAIN =
  /^(?:self|this|cls|os|process|config|cfg|conf|settings|args|opts|options|params|env|environ|request|req|ctx|context|kwargs|secrets|vault|props|app)\.[\w$.]+$/;

/**
 * An unquoted value that reads as source code, not data: a call or subscript (`get_token()`,
 * `os.environ["X"]`), an attribute chain off a usual receiver (`self.token`, `process.env.X`), or the
 * key's own name (`token=token`). Source lines in traces and frames are full of these; hiding them
 * would hide the evidence without hiding a secret.
 */
export function looksLikeCode(value: string, keyName: string): boolean {
  if (CALL_OR_SUBSCRIPT.test(value) || RECEIVER_CHAIN.test(value)) return true;
  const last = keyName.slice(keyName.lastIndexOf(".") + 1).replace(/^[-"']+/, "");
  return value.toLowerCase() === last.toLowerCase();
}

/**
 * A value that looks like a random credential rather than a word: at least 8 characters, no
 * spaces, letters, and either a digit or (16+ characters) both cases. Used where the context alone
 * (prose such as `Invalid token: expected 3 segments`) is too weak to hide a value.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length < 8 || /\s/.test(value)) return false;
  const lower = /[a-z]/.test(value);
  const upper = /[A-Z]/.test(value);
  if (!lower && !upper) return false;
  return /\d/.test(value) || (lower && upper && value.length >= 16);
}
