/**
 * @module
 * The Markdown form of an explain {@link Bundle}: the run, the instructions, the stop, the stages
 * (pipelines), the evidence limits, then one `## Evidence: <path>` section per source, fenced with
 * a backtick run longer than any inside it. The JSON form is the bundle itself.
 */
import type { Bundle } from "./bundle.ts";

function fence(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return "`".repeat(Math.max(3, longest + 1));
}

function inline(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  let longest = 0;
  for (const m of flat.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const ticks = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** The bundle as Markdown. */
export function renderBundleMarkdown(b: Bundle): string {
  const r = b.run;
  const out: string[] = [
    `# ${r.kind === "pipeline" ? "Pipeline run" : "Run"} ${r.id}`,
    "",
    b.instructions,
    "",
    `**Status:** ${r.status}${r.exit_code !== null ? ` (exit code ${r.exit_code})` : ""}  `,
    `**Observed stop:** ${b.observed_stop_reason ? inline(b.observed_stop_reason) : "*(none recorded)*"}  `,
    `**Started:** ${r.started_at ?? "—"} · **Ended:** ${r.ended_at ?? "—"}`,
  ];
  if (r.command) out.push(`**Command:** ${inline(r.command.join(" "))}`);
  out.push("");
  if (r.stages) {
    out.push("## Stages", "");
    for (const s of r.stages) {
      out.push(
        `- ${s.name}: ${s.status}, exit=${s.exit_code ?? "—"}, restarts=${s.restarts}.${s.reason ? ` ${s.reason.replace(/\s+/g, " ")}` : ""}`,
      );
    }
    out.push("");
  }
  out.push("## Incidents", "");
  if (r.incidents.length === 0) out.push("*(none)*");
  for (const i of r.incidents) {
    out.push(`- ${i.id}${i.detector ? ` (${i.detector})` : ""}${i.message ? ` — ${inline(i.message)}` : ""}`);
  }
  out.push("", "## Evidence limits", "");
  out.push(`- ${Object.keys(b.sources).length} source(s) below, each cut to its last part when long.`);
  for (const o of b.omissions) out.push(`- ${o}`);
  out.push("");
  for (const [p, text] of Object.entries(b.sources)) {
    const f = fence(text);
    out.push(`## Evidence: ${p}`, "", `${f}text`, text.endsWith("\n") ? text.slice(0, -1) : text, f, "");
  }
  return out.join("\n");
}
