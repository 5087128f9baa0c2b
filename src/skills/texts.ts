/**
 * @module
 * The texts `autosentry skills install` and `init --for-agent` write, embedded in the binary from
 * templates/skills/ and templates/agent/.
 */
import agentNotes from "../../templates/agent/AGENT_NOTES.md" with { type: "text" };
import program from "../../templates/agent/program.md" with { type: "text" };
import playbook from "../../templates/skills/autosentry.md" with { type: "text" };
import initSkill from "../../templates/skills/autosentry-init.md" with { type: "text" };
import updateSkill from "../../templates/skills/autosentry-update.md" with { type: "text" };

export type SkillName = "autosentry" | "autosentry-init" | "autosentry-update";
export const SKILL_NAMES: readonly SkillName[] = ["autosentry", "autosentry-init", "autosentry-update"];

/** What each skill is for (frontmatter `description`). */
export const SKILL_DESCRIPTIONS: Record<SkillName, string> = {
  autosentry: "Operate autosentry: check the supervised run, answer incidents, relaunch the monitor",
  "autosentry-init": "Set up autosentry in this project: config, checks, launch",
  "autosentry-update": "Check for a newer autosentry and upgrade it with the owner's consent",
};

/** The body of each skill (Markdown). */
export const SKILL_BODIES: Record<SkillName, string> = {
  autosentry: playbook,
  "autosentry-init": initSkill,
  "autosentry-update": updateSkill,
};

/** `.autosentry/AGENT_NOTES.md` (init --for-agent). */
export const AGENT_NOTES_TEMPLATE: string = agentNotes;
/** `.autosentry/program.md` (init --for-agent). */
export const PROGRAM_TEMPLATE: string = program;
