/**
 * @module
 * Secrets recognised by their shape wherever they appear, without a key: PEM private-key blocks,
 * credentials in URLs, known token prefixes (`sk-`, `ghp_`, `github_pat_`, `xoxb-`, `AKIA…`, `hf_`,
 * …), chat webhook URLs, JWTs, `Bearer <token>` and `--password <value>` command-line flags.
 *
 * The visible part (scheme, user name, prefix, JWT header, PEM armour) is kept so a reader knows
 * what was hidden. Every regex starts at a literal or behind a lookbehind boundary and has no
 * nested quantifier, so each runs in linear time over a line; URLs are scanned by hand.
 */
import { isSecretKey, keyWords } from "./secret-key.ts";
import { isHarmless, type KeepFn, looksLikeSecret, REDACTED } from "./values.ts";

/**
 * A prefix-anchored token: group 1 is kept, group 2 is hidden when `valid` accepts it. The regex
 * only runs on lines containing one of `hints` (a substring check is much cheaper than a regex
 * scan, and most log lines contain none).
 */
interface PrefixRule {
  hints: string[];
  re: RegExp;
  valid?: (secret: string) => boolean;
}

const PREFIX_RULES: PrefixRule[] = [
  // OpenAI / Anthropic style keys. `sk-learn-…` has no digits, so the shape check keeps it.
  { hints: ["sk-"], re: /(?<![\w-])(sk-)([A-Za-z0-9_-]{20,})/g, valid: looksLikeSecret },
  { hints: ["k_live_", "k_test_"], re: /(?<![\w-])((?:sk|rk)_(?:live|test)_)([A-Za-z0-9]{16,})/g },
  { hints: ["gh"], re: /(?<![\w-])(gh[pousr]_)([A-Za-z0-9]{30,})(?![\w-])/g },
  { hints: ["github_pat_"], re: /(?<![\w-])(github_pat_)([A-Za-z0-9_]{30,})/g },
  { hints: ["xox"], re: /(?<![\w-])(xox[abposr]-)([A-Za-z0-9-]{10,})/g },
  { hints: ["AKIA", "ASIA"], re: /(?<![A-Za-z0-9])(AKIA|ASIA)([A-Z0-9]{16})(?![A-Za-z0-9])/g },
  { hints: ["hf_"], re: /(?<![\w-])(hf_)([A-Za-z0-9]{30,})(?![\w-])/g },
  { hints: ["glpat-"], re: /(?<![\w-])(glpat-)([A-Za-z0-9_-]{20,})/g },
  { hints: ["npm_"], re: /(?<![\w-])(npm_)([A-Za-z0-9]{36})(?![\w-])/g },
  { hints: ["AIza"], re: /(?<![\w-])(AIza)([0-9A-Za-z_-]{35})(?![\w-])/g },
  { hints: ["pypi-"], re: /(?<![\w-])(pypi-)([A-Za-z0-9_-]{50,})/g },
  { hints: ["hooks.slack.com"], re: /(https:\/\/hooks\.slack\.com\/services\/)([A-Za-z0-9/]+)/g },
  {
    hints: ["/api/webhooks/"],
    re: /(https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/)([A-Za-z0-9/_-]+)/g,
  },
  // JWT: keep the header (it names the algorithm), hide payload and signature.
  { hints: ["eyJ"], re: /(?<![\w-])(eyJ[A-Za-z0-9_-]{8,}\.)(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)/g },
  // `Bearer <token>` outside a header (curl lines, code): only a token-shaped word.
  {
    hints: ["earer"],
    re: /(?<![\w-])([Bb]earer[ \t]+)([A-Za-z0-9._~+/=-]{8,})/g,
    valid: (s) => looksLikeSecret(s) || /[._~+/=-]/.test(s),
  },
];

function applyPrefixRule(line: string, rule: PrefixRule, keep: KeepFn): string {
  if (!rule.hints.some((h) => line.includes(h))) return line;
  rule.re.lastIndex = 0;
  return line.replace(rule.re, (whole: string, kept: string, secret: string) => {
    if (keep(secret) || keep(whole) || isHarmless(secret)) return whole;
    if (rule.valid && !rule.valid(secret)) return whole;
    return kept + REDACTED;
  });
}

/** Known prefixes, webhooks, JWTs and bearer tokens in one line. */
export function redactKnownShapes(line: string, keep: KeepFn): string {
  let out = line;
  for (const rule of PREFIX_RULES) out = applyPrefixRule(out, rule, keep);
  return out;
}

const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
const AUTHORITY_END = new Set(["/", "?", "#", " ", "\t", "\r", '"', "'", "<", ">", "`"]);

/** `scheme://user:password@host` → `scheme://user:[REDACTED]@host`. */
export function redactUrlCredentials(line: string, keep: KeepFn): string {
  let idx = line.indexOf("://");
  if (idx < 0) return line;
  let out = "";
  let last = 0;
  while (idx >= 0) {
    let s = idx;
    while (s > 0 && idx - s < 32 && SCHEME_CHAR.test(line[s - 1]!)) s--;
    const authStart = idx + 3;
    let end = authStart;
    let at = -1;
    let colon = -1;
    while (end < line.length && !AUTHORITY_END.has(line[end]!)) {
      if (line[end] === "@") at = end;
      else if (line[end] === ":" && colon < 0) colon = end;
      end++;
    }
    if (s < idx && /[A-Za-z]/.test(line[s]!) && at > authStart) {
      if (colon >= 0 && colon < at) {
        const password = line.slice(colon + 1, at);
        if (!isHarmless(password) && !keep(password)) {
          out += line.slice(last, colon + 1) + REDACTED;
          last = at;
        }
      }
    }
    idx = line.indexOf("://", Math.max(end, authStart));
  }
  return last === 0 ? line : out + line.slice(last);
}

const FLAG =
  /(?<![\w-])(--?[A-Za-z][\w-]{0,63})([ \t]+)(\[REDACTED\]|"[^"]*"|'[^']*'|[^\s"'\-)\]}][^\s"')\]}]*)/g;

/**
 * `--password hunter2`, `--api-key "…"` → the value hidden. (`--token=…` is a key=value form.)
 * A metavar echoing the flag (`--token TOKEN` in usage text) stays.
 */
export function redactFlags(line: string, keep: KeepFn): string {
  if (!line.includes("-")) return line;
  FLAG.lastIndex = 0;
  return line.replace(FLAG, (whole: string, flag: string, ws: string, raw: string) => {
    if (!isSecretKey(flag)) return whole;
    const quote = raw[0] === '"' || raw[0] === "'" ? raw[0] : "";
    const value = quote ? raw.slice(1, -1) : raw;
    if (isHarmless(value) || keep(value)) return whole;
    if (keyWords(flag).includes(value.toLowerCase())) return whole;
    return flag + ws + quote + REDACTED + quote;
  });
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{1,60})-----/g;
const PEM_ESCAPED_TAIL = /(?:[A-Za-z0-9+/=]|\\n|\\r)*/y;
const BASE64_LINE = /^[ \t]*[A-Za-z0-9+/=]+[ \t]*\r?$/;

/** End of the base64 run after a PEM header that has no END line. */
function unterminatedBodyEnd(text: string, bodyStart: number, escaped: boolean): number {
  if (escaped) {
    PEM_ESCAPED_TAIL.lastIndex = bodyStart;
    PEM_ESCAPED_TAIL.exec(text);
    return PEM_ESCAPED_TAIL.lastIndex;
  }
  let end = bodyStart;
  let pos = text.indexOf("\n", bodyStart);
  while (pos >= 0) {
    const next = text.indexOf("\n", pos + 1);
    const line = text.slice(pos + 1, next < 0 ? text.length : next);
    if (!BASE64_LINE.test(line)) break;
    end = next < 0 ? text.length : next;
    pos = next;
  }
  return end;
}

/**
 * Private-key PEM blocks (any label containing PRIVATE or ENCRYPTED): the armour lines stay, the
 * body becomes `[REDACTED]`. Works on real newlines and on JSON-escaped `\n`; a block cut off by a
 * log excerpt (no END line) loses its base64 run. Certificates and public keys are left alone.
 */
export function redactPem(text: string): string {
  if (!text.includes("-----BEGIN ")) return text;
  let out = "";
  let last = 0;
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
    const label = m[1]!;
    if (!label.includes("PRIVATE") && !label.includes("ENCRYPTED")) continue;
    const bodyStart = m.index + m[0].length;
    const nl = text.startsWith("\\n", bodyStart) ? "\\n" : text.startsWith("\r\n", bodyStart) ? "\r\n" : "\n";
    const endMarker = `-----END ${label}-----`;
    const endIdx = text.indexOf(endMarker, bodyStart);
    let bodyEnd: number;
    let replacement: string;
    if (endIdx >= 0) {
      bodyEnd = endIdx;
      replacement = nl + REDACTED + nl;
      PEM_BEGIN.lastIndex = endIdx + endMarker.length;
    } else {
      if (text.startsWith(nl + REDACTED, bodyStart)) continue;
      bodyEnd = unterminatedBodyEnd(text, bodyStart, nl === "\\n");
      if (bodyEnd === bodyStart) continue;
      replacement = nl + REDACTED;
      PEM_BEGIN.lastIndex = bodyEnd;
    }
    out += text.slice(last, bodyStart) + replacement;
    last = bodyEnd;
  }
  return last === 0 ? text : out + text.slice(last);
}

const USER_FLAG = /(?<![\w-])(-u|--user|--proxy-user|-U)([ \t]+|=)(["']?)([^\s:"']{1,128}):([^\s"']+)\3/g;

/**
 * `curl -u user:password`, `--user user:password`, `--proxy-user …`: the user stays, the password
 * is hidden (issue 16, finding 8). A value without a colon (`-u 1000`, `-u root`) is left alone.
 */
export function redactUserFlag(line: string, keep: KeepFn): string {
  if (!line.includes("-")) return line;
  USER_FLAG.lastIndex = 0;
  return line.replace(
    USER_FLAG,
    (whole, flag: string, sep: string, quote: string, user: string, pw: string) => {
      if (isHarmless(pw) || keep(pw)) return whole;
      return `${flag}${sep}${quote}${user}:${REDACTED}${quote}`;
    },
  );
}
