/**
 * @module
 * The agent healer: when no rule answers an incident, a coding agent looks at the incident folder and
 * answers with an ACTION block (see action-block.ts). Modes (resolved once, see mode.ts):
 *
 * - **subprocess**: the Claude Code CLI runs headless in the project's working tree and may edit
 *   files. The tree is snapshotted before (never touching the user's index, HEAD, stash or files),
 *   and exactly the agent's edits are committed afterwards on `<branch_prefix><incident id>`; the
 *   outcome carries that commit (`fix`) so the monitor can keep or revert it after verification.
 * - **api**: the Messages API with read-only tools; it proposes an action and edits nothing.
 * - **interactive**: a request file and a wait for `autosentry healer respond` (interactive.ts);
 *   edits the responder makes meanwhile are captured like the subprocess agent's.
 * - **session**: autosentry does not heal (a Claude Code session does, through `probe` and
 *   `session apply`); heal() answers null.
 * - **disabled**: rules only.
 *
 * A reply without a valid action gives null (the restart policy decides) and a note; the reply and
 * any diff are still written to the incident folder (`fix/claude_response.md`, `fix/diff.patch`),
 * and edits the agent made anyway are kept on the fix branch and taken back out of the working tree,
 * so that unverified changes never stay behind in the user's files.
 *
 * Failures that will not go away by themselves (no CLI, rejected credentials, exhausted quota or an
 * overloaded service) call `onDisabled` exactly once and switch this healer off for the rest of the
 * monitor's life: no retry loop, no storm of 401s.
 */
import * as path from "node:path";
import type { ConfigData } from "../../config/schema.ts";
import type { Detection, HealerOutcome } from "../../core/types.ts";
import { captureFix, type FixCommit } from "../../fixes/capture.ts";
import { revertFix } from "../../fixes/revert.ts";
import { type BaseSnapshot, findRepoRoot, snapshotBase } from "../../fixes/snapshot.ts";
import { writeFileAtomic } from "../../util/atomic-write.ts";
import type { Logger } from "../../util/logger.ts";
import type { HealContext, Healer } from "../types.ts";
import { type ParsedAction, parseActionBlock } from "./action-block.ts";
import { runApiAgent } from "./api-client.ts";
import { apiSettings } from "./api-settings.ts";
import { findClaudeCli, runClaude } from "./claude-cli.ts";
import { readIncidentEvidence } from "./evidence.ts";
import { type AgentFailure, isDisablingFailure } from "./failure.ts";
import { requestAndWait } from "./interactive.ts";
import { type AgentModeName, resolveAgentMode } from "./mode.ts";
import { runOpenAiAgent } from "./openai-client.ts";
import { type AgentMode, buildRecoveryPrompt, loadPromptTemplate } from "./prompt.ts";

export interface AgentHealerOptions {
  config: ConfigData;
  /** The project root (where `.autosentry/` is). */
  root: string;
  logger: Logger;
  /** Applied to every text this healer writes or returns. */
  redact: (s: string) => string;
  /** The environment the agent runs with (and mode detection sees). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Called once, with a sentence and the failure class (`auth`, `quota`, `missing_cli`), when the
   * agent cannot work until a human acts; healing is rules-only from then on.
   */
  onDisabled: (reason: string, kind: string) => void;
}

/** Why the healer switched itself off. */
export interface AgentDisabled {
  reason: string;
  kind: string;
}

const LAST_ACTION_LINE_RE = /^[ \t>]*(?:[-*] +)?(?:\*\*)?ACTION:/;
const MAX_RATIONALE = 2000;

/** The reply's text before its final ACTION line (HTML comments removed): the agent's diagnosis. */
export function diagnosisOf(reply: string): string {
  const lines = reply.split(/\r?\n/);
  let at = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (LAST_ACTION_LINE_RE.test(lines[i]!)) {
      at = i;
      break;
    }
  }
  const text = lines
    .slice(0, at)
    .join("\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .trim();
  return text.length > MAX_RATIONALE ? `${text.slice(0, MAX_RATIONALE)}…` : text;
}

export class AgentHealer implements Healer {
  readonly name = "agent";
  /** The mode resolved when the healer was built. */
  readonly mode: AgentModeName;
  /** Why that mode. */
  readonly why: string;
  private readonly cfg: ConfigData;
  private readonly root: string;
  private readonly log: Logger;
  private readonly redact: (s: string) => string;
  private readonly env: Record<string, string | undefined>;
  private readonly onDisabled: (reason: string, kind: string) => void;
  private off: AgentDisabled | null = null;

  constructor(opts: AgentHealerOptions) {
    this.cfg = opts.config;
    this.root = opts.root;
    this.log = opts.logger;
    this.redact = opts.redact;
    this.env = opts.env ?? process.env;
    this.onDisabled = opts.onDisabled;
    const m = resolveAgentMode(opts.config, opts.root, this.env);
    this.mode = m.mode;
    this.why = m.why;
  }

  /** Set once a disabling failure switched the agent off (rules-only from then on). */
  get disabled(): AgentDisabled | null {
    return this.off;
  }

  /** True when heal() may run an agent: a healing mode, and not switched off. */
  get active(): boolean {
    return this.off === null && this.mode !== "disabled" && this.mode !== "session";
  }

  async heal(ctx: HealContext): Promise<HealerOutcome | null> {
    if (this.off) {
      this.note(ctx, `agent healing is off for the rest of this run (${this.off.reason}); rules only`);
      return null;
    }
    switch (this.mode) {
      case "disabled":
        this.note(ctx, `no agent: ${this.why}`);
        return null;
      case "session":
        this.note(ctx, "dispatch is session: the incident waits for the Claude Code session");
        return null;
      case "subprocess":
        return this.healSubprocess(ctx);
      case "api":
        return this.healApi(ctx);
      case "interactive":
        return this.healInteractive(ctx);
    }
  }

  // ------------------------------------------------------------------------------------------

  private note(ctx: HealContext, text: string): void {
    const t = this.redact(text);
    ctx.notes?.push(t);
    this.log.log("CLAUDE", t);
  }

  private disable(failure: AgentFailure): void {
    if (this.off) return;
    const reason = this.redact(failure.message);
    this.off = { reason, kind: failure.kind };
    this.log.error(`agent healing switched off until autosentry is restarted: ${reason}`);
    try {
      this.onDisabled(reason, failure.kind);
    } catch (err) {
      this.log.error(`onDisabled failed: ${(err as Error).message}`);
    }
  }

  /** Where the agent works: the child's working directory. */
  private get workDir(): string {
    return this.cfg.process.cwd;
  }

  private prompt(
    ctx: HealContext,
    mode: AgentMode,
    repoRoot: string | null,
  ): { text: string; logExcerpt: string } {
    const include = new Set(this.cfg.healing.claude.include_in_context);
    const ev = readIncidentEvidence(ctx.incidentDir);
    const withTrace = ctx.detection.trace ? ctx.detection : ctx.related.find((d) => d.trace);
    const detection: Pick<
      Detection,
      "detector" | "detectorKind" | "kind" | "message" | "exceptionType" | "trace"
    > = {
      detector: ctx.detection.detector,
      detectorKind: ctx.detection.detectorKind,
      kind: ctx.detection.kind,
      message: ctx.detection.message,
      exceptionType: ctx.detection.exceptionType ?? withTrace?.exceptionType,
      trace: withTrace?.trace,
    };
    const tpl = loadPromptTemplate(this.cfg.healing.claude.prompt_template);
    const rendered = buildRecoveryPrompt(
      {
        incidentId: ctx.incidentId,
        incidentDir: ctx.incidentDir,
        repoRoot,
        detection,
        logExcerpt: ev.logExcerpt,
        report: include.has("last_incident") ? ev.report : null,
        configs: include.has("config_snapshots") ? ev.configs : [],
        state: include.has("state") ? ev.state : null,
        mode,
        redact: this.redact,
      },
      tpl.template,
    );
    for (const w of [...tpl.warnings, ...rendered.warnings]) this.log.warn(w);
    return { text: rendered.prompt, logExcerpt: ev.logExcerpt ?? "" };
  }

  /** Snapshot the tree before an agent may edit it; null (with a note) when that is impossible. */
  private async snapshot(ctx: HealContext): Promise<BaseSnapshot | null> {
    try {
      const base = await snapshotBase(this.workDir);
      if (base === null) {
        this.note(
          ctx,
          `${this.workDir} is not in a git repository: the agent may not edit files (its edits could not be captured or undone)`,
        );
      }
      return base;
    } catch (err) {
      this.note(
        ctx,
        `cannot snapshot the working tree, so the agent may not edit files: ${(err as Error).message}`,
      );
      return null;
    }
  }

  /** Commit the agent's edits on the fix branch; null when it changed nothing (or on error, noted). */
  private async capture(ctx: HealContext, base: BaseSnapshot): Promise<FixCommit | null> {
    const git = this.cfg.healing.git;
    try {
      const fix = await captureFix(base, ctx.incidentId, {
        branchPrefix: git.branch_prefix,
        createBranch: git.enabled && git.write_enabled,
        diffPath: path.join(ctx.incidentDir, "fix", "diff.patch"),
      });
      if (fix) {
        // The patch is evidence in the incident folder: redacted like everything else there.
        const red = this.redact(fix.diff);
        if (red !== fix.diff) await writeFileAtomic(path.join(ctx.incidentDir, "fix", "diff.patch"), red);
        for (const p of fix.problems) this.note(ctx, p);
        if (fix.skipped.length > 0) {
          this.note(ctx, `files too big or too many to capture: ${fix.skipped.slice(0, 10).join(", ")}`);
        }
      }
      return fix;
    } catch (err) {
      this.note(ctx, `cannot capture the agent's edits: ${(err as Error).message}`);
      return null;
    }
  }

  /** Reply and diff of an answer the monitor will not act on, for the human reading the incident. */
  private async keepEvidence(ctx: HealContext, reply: string, fix: FixCommit | null): Promise<void> {
    try {
      if (reply.trim() !== "") {
        await writeFileAtomic(path.join(ctx.incidentDir, "fix", "claude_response.md"), this.redact(reply));
      }
      if (fix) {
        await writeFileAtomic(path.join(ctx.incidentDir, "fix", "diff.patch"), this.redact(fix.diff));
      }
    } catch (err) {
      this.log.error(
        `cannot write the agent's reply into incident ${ctx.incidentId}: ${(err as Error).message}`,
      );
    }
  }

  /** Edits that no action will verify: keep them on the branch, take them out of the tree. */
  private async setAside(ctx: HealContext, fix: FixCommit, why: string): Promise<void> {
    const where = fix.branch ? `branch ${fix.branch}` : `commit ${fix.commit.slice(0, 12)}`;
    let undone = "";
    try {
      const r = await revertFix(fix);
      undone = r.ok
        ? "and taken back out of the working tree"
        : `but could not be taken out of the working tree (${r.conflicts.map((c) => `${c.path}: ${c.reason}`).join("; ")})`;
    } catch (err) {
      undone = `but could not be taken out of the working tree (${(err as Error).message})`;
    }
    this.note(
      ctx,
      `${why}; the agent's edits to ${fix.files.map((f) => f.path).join(", ")} are kept on ${where} and in fix/diff.patch ${undone}`,
    );
  }

  /** An outcome from a parsed reply, or null (with notes) when it holds no action. */
  private answer(
    ctx: HealContext,
    reply: string,
    parsed: ParsedAction,
    extra: { fix?: FixCommit | null } = {},
  ): HealerOutcome | null {
    for (const p of parsed.problems) this.note(ctx, `agent reply: ${p}`);
    if (!parsed.action) return null;
    const diagnosis = diagnosisOf(reply);
    const outcome: HealerOutcome = {
      action: parsed.action,
      source: "claude",
      detection: ctx.detection,
      response: this.redact(reply),
      rationale: diagnosis ? this.redact(diagnosis) : undefined,
    };
    if (extra.fix) {
      outcome.diff = this.redact(extra.fix.diff);
      outcome.fix = extra.fix;
    }
    return outcome;
  }

  // ------------------------------------------------------------------------------------------
  // subprocess

  private async healSubprocess(ctx: HealContext): Promise<HealerOutcome | null> {
    const c = this.cfg.healing.claude;
    if (findClaudeCli(c.command, this.env) === null) {
      this.disable({
        kind: "missing_cli",
        message: `Claude Code CLI not found: ${c.command[0] ?? "claude"} is not on PATH`,
      });
      this.note(ctx, `agent healing is off: ${this.off!.reason}`);
      return null;
    }
    const base = await this.snapshot(ctx);
    const mayEdit = base !== null;
    const { text: prompt } = this.prompt(ctx, mayEdit ? "edit" : "propose", base?.repoRoot ?? null);
    const addDirs = [base?.repoRoot, this.root].filter(
      (d): d is string => typeof d === "string" && !isInside(this.workDir, d),
    );
    this.log.log(
      "CLAUDE",
      `asking Claude Code about incident ${ctx.incidentId} (subprocess, ${this.workDir})`,
    );
    const r = await runClaude({
      command: c.command,
      prompt,
      cwd: this.workDir,
      env: this.env,
      timeoutMs: c.timeout_seconds * 1000,
      maxTurns: c.max_turns,
      addDirs: [...new Set(addDirs)],
      permissionMode: mayEdit ? "acceptEdits" : "dontAsk",
      signal: ctx.signal,
    });
    this.log.log(
      "CLAUDE",
      `Claude Code ${r.ok ? "answered" : `failed (${r.failure?.kind})`} in ${Math.round(r.durationMs / 100) / 10}s, ${r.numTurns ?? "?"} turns, ${r.text.length} chars`,
    );
    for (const d of r.permissionDenials) {
      this.note(ctx, `Claude Code was refused ${d.tool_name} ${JSON.stringify(d.tool_input).slice(0, 200)}`);
    }
    const fix = base ? await this.capture(ctx, base) : null;
    if (!r.ok) {
      const failure = r.failure ?? { kind: "other" as const, message: "Claude Code failed" };
      if (isDisablingFailure(failure.kind)) this.disable(failure);
      this.note(ctx, `the agent gave no answer: ${failure.message}`);
      await this.keepEvidence(ctx, r.text, fix);
      if (fix) await this.setAside(ctx, fix, "the agent gave no answer");
      return null;
    }
    const parsed = parseActionBlock(r.text);
    const outcome = this.answer(ctx, r.text, parsed, { fix });
    if (outcome) {
      this.log.log(
        "CLAUDE",
        `agent → ${outcome.action.kind}${fix ? `, edits on ${fix.branch ?? fix.commit.slice(0, 12)}` : ", no edits"}`,
      );
      return outcome;
    }
    const why = parsed.none
      ? "the agent answered ACTION: none"
      : "the agent's reply has no valid ACTION block";
    this.note(ctx, `${why}: the restart policy decides`);
    await this.keepEvidence(ctx, r.text, fix);
    if (fix) await this.setAside(ctx, fix, why);
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // api

  private async healApi(ctx: HealContext): Promise<HealerOutcome | null> {
    const a = apiSettings(this.cfg.healing);
    const key = this.env[a.keyEnv] ?? "";
    if (key === "" && a.keyRequired) {
      this.disable({ kind: "auth", message: `no API key: ${a.keyEnv} is not set` });
      this.note(ctx, `agent healing is off: ${this.off!.reason}`);
      return null;
    }
    const repoRoot = await findRepoRoot(this.workDir).catch(() => null);
    const { text: prompt, logExcerpt } = this.prompt(ctx, "propose", repoRoot);
    this.log.log("CLAUDE", `asking the ${a.label} about incident ${ctx.incidentId} (${a.model})`);
    const run = a.provider === "openai" ? runOpenAiAgent : runApiAgent;
    const r = await run(
      { prompt, root: repoRoot ?? this.workDir, logExcerpt },
      {
        baseUrl: a.baseUrl,
        apiKey: key,
        model: a.model,
        maxSteps: a.maxSteps,
        requestTimeoutMs: a.requestTimeoutMs,
        signal: ctx.signal,
      },
    );
    if (!r.ok || !r.parsed) {
      const failure = r.failure ?? { kind: "other" as const, message: "the API agent failed" };
      if (isDisablingFailure(failure.kind)) this.disable(failure);
      this.note(ctx, `the agent gave no answer: ${failure.message}`);
      await this.keepEvidence(ctx, r.text, null);
      return null;
    }
    const outcome = this.answer(ctx, r.text, r.parsed);
    if (outcome) return outcome;
    this.note(
      ctx,
      `${r.parsed.none ? "the agent answered ACTION: none" : "the agent's reply has no valid ACTION block"}: the restart policy decides`,
    );
    await this.keepEvidence(ctx, r.text, null);
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // interactive

  private async healInteractive(ctx: HealContext): Promise<HealerOutcome | null> {
    const c = this.cfg.healing.claude;
    const base = await this.snapshot(ctx);
    const { text: prompt } = this.prompt(ctx, base ? "edit" : "propose", base?.repoRoot ?? null);
    const sub = c.subagents[ctx.detection.detector] ??
      c.subagents.default ?? { type: "general-purpose", description: "Diagnose an autosentry incident" };
    this.log.log(
      "CLAUDE",
      `recovery request for incident ${ctx.incidentId} written to ${c.request_path}; waiting up to ${c.timeout_seconds}s for \`autosentry healer respond\``,
    );
    const res = await requestAndWait({
      requestPath: c.request_path,
      responsePath: c.response_path,
      info: {
        incidentId: ctx.incidentId,
        detector: ctx.detection.detector,
        subagent: { type: sub.type, description: sub.description },
        timeoutSeconds: c.timeout_seconds,
      },
      prompt,
      signal: ctx.signal,
      onIgnored: (why) => this.note(ctx, why),
    });
    if (res.kind !== "response") {
      this.note(
        ctx,
        res.kind === "timeout"
          ? `no response to the recovery request within ${c.timeout_seconds}s: the restart policy decides`
          : "the wait for a recovery response was cancelled",
      );
      return null;
    }
    const fix = base ? await this.capture(ctx, base) : null;
    const parsed = parseActionBlock(res.text);
    const outcome = this.answer(ctx, res.text, parsed, { fix });
    if (outcome) return outcome;
    const why = parsed.none ? "the response says ACTION: none" : "the response has no valid ACTION block";
    this.note(ctx, `${why}: the restart policy decides`);
    await this.keepEvidence(ctx, res.text, fix);
    if (fix) await this.setAside(ctx, fix, why);
    return null;
  }
}

/** True when `child` is `parent` or below it. */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}
