/**
 * @module
 * Why an agent run failed, in classes the healer chain acts on. Three of them mean "this will not
 * work until a human acts" (no CLI, bad or missing credentials, exhausted quota or an overloaded
 * service): healing switches to rules-only and says so once, instead of burning a retry on every
 * incident (and, with the CLI's default retries, minutes of 401s per attempt).
 */

export type AgentFailureKind =
  | "missing_cli"
  | "auth"
  | "quota"
  | "timeout"
  | "max_turns"
  | "api_error"
  | "aborted"
  | "other";

export interface AgentFailure {
  kind: AgentFailureKind;
  /** What happened, for the log and the notification (`Claude Code: Invalid API key · …`). */
  message: string;
  /** HTTP status from the API, when one is known. */
  status?: number | null;
}

/** Failures after which the agent is switched off (rules-only) until a human fixes the cause. */
export function isDisablingFailure(kind: AgentFailureKind): boolean {
  return kind === "auth" || kind === "quota" || kind === "missing_cli";
}

const AUTH_RE =
  /invalid api key|invalid x-api-key|not logged in|please run \/login|authentication[_ ]error|unauthori[sz]ed|oauth token|token (?:has )?expired|credentials? (?:are |is )?(?:missing|invalid)|permission_error/i;
const QUOTA_RE =
  /overloaded|credit balance|usage limit|rate[_ ]limit|quota|billing|insufficient (?:funds|credits)|limit reached|too many requests/i;

/**
 * Classify an API-level failure from its HTTP status (if known) and message text. Returns
 * `api_error` for other API failures with a status, `other` when nothing points at the API.
 */
export function classifyApiFailure(status: number | null | undefined, text: string): AgentFailureKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 429 || status === 529) return "quota";
  if (AUTH_RE.test(text)) return "auth";
  if (QUOTA_RE.test(text)) return "quota";
  if (typeof status === "number" || /api error/i.test(text)) return "api_error";
  return "other";
}
