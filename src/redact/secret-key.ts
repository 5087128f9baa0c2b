/**
 * @module
 * Does a key name (an env var, a YAML/JSON key, a header, a CLI flag) name a secret?
 *
 * The name is split into lower-case words (`_`, `-`, `.`, spaces and camelCase boundaries), then:
 * - a *strong* noun (`secret`, `password`, `passwd`, `passphrase`, `credential(s)`) makes the key
 *   secret wherever it stands, unless the word right after it says the value is *about* the secret
 *   rather than the secret itself (`password_min_length`, `SECRET_NAME`, `secret_file`,
 *   `secrets_manager`): those hold lengths, names, paths and switches;
 * - a *weak* noun (`token`, `key`, `auth`, `cookie`, `pass`, `pwd`, `dsn`, `signature`, …) makes
 *   the key secret only when it is the last word, or is followed only by encoding words
 *   (`_value`, `_b64`). So `HF_TOKEN`, `OPENAI_API_KEY`, `AWS_SECRET_ACCESS_KEY` are secret while
 *   `TOKENIZER_PATH`, `GITHUB_TOKEN_FILE`, `KEY_COLUMN` and `max_tokens` are not;
 * - `key` needs a qualifier that is not a database or data-structure word (`api_key` yes,
 *   `primary_key`, `sort_key`, `public_key` and a lone `key` no);
 * - `token` preceded by a tokenizer word (`eos_token`, `pad_token`, `max_new_token`,
 *   `next_token` for pagination) is a vocabulary item, not a credential;
 * - `pwd` needs a qualifier, so the shell's `PWD` stays readable;
 * - `signature` / `sig` make a key secret *if its value looks random* ({@link isSignatureKey}):
 *   a webhook's `X-Hub-Signature-256: sha256=…`, S3's `X-Amz-Signature=…`, a base64 signature are
 *   hidden, while autosentry's own `signature` fields, whose values are words (a built-in
 *   signature name in a rule's `match.signature: cuda_oom`, the identical-failure guard's
 *   `traceback:error:KeyError:…` with digits as `#` in state.json and the journal), stay readable.
 *   A signature is a MAC or a public-key signature over a message: it is a secret only in that
 *   it may be replayed, and it is never a word.
 */

const STRONG = new Set([
  "secret",
  "secrets",
  "password",
  "passwords",
  "passwd",
  "passphrase",
  "credential",
  "credentials",
  "privatekey",
]);

const WEAK = new Set([
  "token",
  "key",
  "apikey",
  "accesskey",
  "secretkey",
  "authkey",
  "auth",
  "authorization",
  "cookie",
  "pass",
  "pwd",
  "dsn",
  "signature",
  "sig",
  "jwt",
  "bearer",
]);

/** Words after a strong noun that make the value a property of the secret, not the secret. */
const META = new Set([
  "length",
  "len",
  "min",
  "max",
  "policy",
  "rotation",
  "rotate",
  "expiry",
  "expires",
  "expiration",
  "expire",
  "ttl",
  "age",
  "timeout",
  "enabled",
  "enable",
  "disabled",
  "required",
  "require",
  "set",
  "present",
  "exists",
  "hint",
  "prompt",
  "regex",
  "pattern",
  "strength",
  "rule",
  "rules",
  "path",
  "file",
  "dir",
  "name",
  "names",
  "id",
  "ids",
  "arn",
  "ref",
  "version",
  "count",
  "type",
  "kind",
  "field",
  "env",
  "var",
  "source",
  "provider",
  "manager",
  "store",
  "backend",
  "mount",
  "location",
  "reset",
  "changed",
  "updated",
  "mode",
  "format",
  "of",
]);

/** Words that may follow a weak noun without changing what the value is. */
const SUFFIX = new Set(["value", "b64", "base64", "hex", "raw", "str", "string", "plain", "data", "bytes"]);

/** Qualifiers that make `…_key` a data key, not a credential. */
const KEY_EXEMPT = new Set([
  "primary",
  "foreign",
  "sort",
  "partition",
  "shard",
  "routing",
  "join",
  "group",
  "lookup",
  "index",
  "column",
  "row",
  "cache",
  "hash",
  "dict",
  "map",
  "public",
  "pub",
  "unique",
  "composite",
  "natural",
  "surrogate",
  "idempotency",
  "dedup",
  "range",
  "search",
  "hot",
  "sorting",
  "object",
]);

/** Qualifiers that make `…_token` a tokenizer vocabulary item or a pagination cursor. */
const TOKEN_EXEMPT = new Set([
  "eos",
  "bos",
  "pad",
  "unk",
  "sep",
  "cls",
  "mask",
  "start",
  "end",
  "special",
  "max",
  "min",
  "num",
  "total",
  "input",
  "output",
  "prompt",
  "completion",
  "context",
  "new",
  "image",
  "audio",
  "vision",
  "next",
  "prev",
  "previous",
  "page",
  "continuation",
  "first",
  "last",
  "stop",
  "split",
  "sentence",
  "word",
  "sub",
  "decoder",
  "encoder",
  "default",
  "bad",
  "ignore",
]);

/** Split an identifier into lower-case words: `AWSSecretKey` → aws, secret, key. */
export function keyWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function isStrong(word: string): boolean {
  return (
    STRONG.has(word) ||
    (word.length > 6 && (word.endsWith("secret") || word.endsWith("password") || word.endsWith("passwd")))
  );
}

function isWeak(word: string): boolean {
  return WEAK.has(word) || (word.length > 5 && word.endsWith("token"));
}

/** Weak nouns whose values are hidden only when they look random (see the module comment). */
const SIGNATURE_NOUNS = new Set(["signature", "sig"]);

const NOT = 0;
const SECRET = 1;
/** Secret only by a {@link SIGNATURE_NOUNS} word: hide values that look random. */
const SIGNATURE = 2;

/** Logs repeat the same few keys on every line; remember the answers (bounded). */
const cache = new Map<string, number>();
const CACHE_MAX = 4096;

function verdict(name: string): number {
  if (name.length === 0 || name.length > 128) return NOT;
  const known = cache.get(name);
  if (known !== undefined) return known;
  const answer = judge(name);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(name, answer);
  return answer;
}

/** True when a key of this name holds a secret (see the module comment for where the line is drawn). */
export function isSecretKey(name: string): boolean {
  return verdict(name) !== NOT;
}

/**
 * True when the key is secret only as a signature (`X-Hub-Signature-256`, `signature`, `sig`): its
 * value is hidden when it looks random (`looksLikeSecret`), and kept when it is words.
 */
export function isSignatureKey(name: string): boolean {
  return verdict(name) === SIGNATURE;
}

function judge(name: string): number {
  // `HF_TOKEN2`, `password_2`: a trailing number does not change what the word is.
  const words = keyWords(name)
    .filter((w) => !/^\d+$/.test(w))
    .map((w) => {
      const bare = w.replace(/(?<=[a-z])\d+$/, "");
      return bare !== w && (isStrong(bare) || isWeak(bare)) ? bare : w;
    });
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (isStrong(w)) {
      if (next === undefined || !META.has(next)) return SECRET;
      continue;
    }
    if (!isWeak(w)) continue;
    if (!words.slice(i + 1).every((s) => SUFFIX.has(s))) continue;
    const prev = words[i - 1];
    if (w === "key" && (prev === undefined || KEY_EXEMPT.has(prev))) continue;
    if (w === "pwd" && prev === undefined) continue;
    if (w === "token" && prev !== undefined && TOKEN_EXEMPT.has(prev)) continue;
    return SIGNATURE_NOUNS.has(w) ? SIGNATURE : SECRET;
  }
  return NOT;
}
