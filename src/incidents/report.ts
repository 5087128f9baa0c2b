/**
 * @module
 * report.md (inventory §4.9), rendered from an {@link IncidentRecord} and nothing else. Compared
 * with the Python tool it puts the exception up front, shows the first and the final error of a
 * chained trace, quotes the tail of the log excerpt inline, and prints the env values a restart
 * really used (`BATCH_SIZE=32 (from half)`), never the literal `half` (inventory §6 item 28).
 * It also says how often the same failure (its fingerprint) was seen before and links those
 * incidents' reports, lists the detector's own data (a stall's metric), and the env overrides the
 * failing child ran with.
 */
import type { TraceException } from "../core/types.ts";
import { sparkline } from "../util/sparkline.ts";
import { NO_FRAMES } from "./frames-section.ts";
import { code, fenced, oneLine, shellJoin } from "./markdown.ts";
import type { IncidentRecord, IncidentSeries, OutcomeSummary } from "./record.ts";

/** `2026-11-22 03:04:05 UTC` from an ISO timestamp. */
function humanTime(iso: string): string {
  return `${iso.slice(0, 19).replace("T", " ")} UTC`;
}

function capText(max: number): string {
  return max <= 0 ? "∞" : String(max);
}

function resolution(o: OutcomeSummary | null): string {
  if (o === null) return "*(pending)*";
  if (o.action === null) return "*(none)*";
  if (o.source === "rule") return `rule ${code(o.rule ?? "?")} → ${o.action.kind}`;
  return `${o.source} → ${o.action.kind}`;
}

function exceptionText(e: TraceException): string {
  return e.type ? `${e.type}: ${e.message}` : e.message;
}

/**
 * `**Label:** \`text\``, or the label then a fenced block when the text has several lines. The
 * label also keeps a long backtick run from opening a code fence at the start of a line.
 */
function labelled(label: string, text: string, suffix = ""): string {
  const t = text.trimEnd();
  if (/\r|\n/.test(t)) return `**${label}:**${suffix}\n\n${fenced(t)}`;
  return `**${label}:** ${code(t.trim())}${suffix}`;
}

function summary(r: IncidentRecord): string[] {
  const out: string[] = [];
  const chain = r.trace?.exceptions ?? [];
  const final = chain[chain.length - 1];
  if (final && (final.type || final.message)) {
    if (chain.length > 1) {
      out.push(
        labelled("Error", exceptionText(final), " (the final error, which ended the program)"),
        "",
        labelled(
          "First error",
          exceptionText(chain[0]!),
          ` (the first of ${chain.length} chained exceptions)`,
        ),
      );
    } else {
      out.push(labelled("Error", exceptionText(final)));
    }
    if (oneLine(r.message) !== oneLine(exceptionText(final)))
      out.push("", labelled("Detector message", r.message));
  } else {
    out.push(labelled("Message", r.message));
  }
  const lead = leadLines(r);
  if (lead.length > 0) out.unshift(...lead, "");
  const meta = Object.entries(r.meta ?? {}).filter(([k, v]) => v !== null && v !== "" && !LEAD_KEYS.has(k));
  if (meta.length > 0) {
    out.push("", `**Detector data:** ${meta.map(([k, v]) => code(`${k}=${String(v)}`)).join(", ")}`);
  }
  out.push("", `**Seen before:** ${seenLine(r)}`);
  const o = r.outcome;
  if (o?.rationale) out.push("", `**Rationale:** ${oneLine(o.rationale)}`);
  return out;
}

/** Detector data shown as the summary's lead lines instead of in the detector-data list. */
const LEAD_KEYS = new Set([
  "project_frame",
  "signature_name",
  "signature_kind",
  "explanation",
  "exit_meaning",
]);

/**
 * The summary leads with where to look (the innermost project frame) and, when the failure is a
 * known one, its signature and what it means (issue 12).
 */
function leadLines(r: IncidentRecord): string[] {
  const m = r.meta ?? {};
  const out: string[] = [];
  if (typeof m["project_frame"] === "string") {
    out.push(
      `**Where to look:** ${code(m["project_frame"])} (the innermost frame of the project's own code)`,
    );
  }
  if (typeof m["signature_name"] === "string") {
    const kind = typeof m["signature_kind"] === "string" ? ` (${m["signature_kind"]})` : "";
    const why = typeof m["explanation"] === "string" ? ` — ${oneLine(m["explanation"])}` : "";
    out.push(`**Known failure:** ${code(m["signature_name"])}${kind}${why}`);
  } else if (typeof m["exit_meaning"] === "string") {
    out.push(`**Meaning:** ${oneLine(m["exit_meaning"])}`);
  }
  return out.flatMap((l, i) => (i === 0 ? [l] : ["", l]));
}

function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

function seenLine(r: IncidentRecord): string {
  const s = r.seen_before;
  if (!s || s.count === 0) return `never (fingerprint ${code(r.fingerprint ?? "?")})`;
  const span =
    s.first_time && s.last_time && s.first_time !== s.last_time
      ? `first ${humanTime(s.first_time)}, last ${humanTime(s.last_time)}`
      : `at ${humanTime(s.first_time ?? s.last_time ?? r.time)}`;
  return `${times(s.count)} (${span}; fingerprint ${code(r.fingerprint)}), see below`;
}

/** `## Earlier incidents of this failure`: relative links to the reports next to this folder. */
function earlier(r: IncidentRecord): string[] {
  const s = r.seen_before;
  const out = [
    `The same failure (fingerprint ${code(r.fingerprint)}) was recorded ${times(s.count)} before in this incidents directory.`,
    "",
  ];
  const shown = s.earlier;
  shown.forEach((e, i) => {
    out.push(
      `- [${e.id}](../${e.id}/report.md) — ${humanTime(e.time)}${e.resolution ? ` — ${oneLine(e.resolution, 120)}` : ""}`,
    );
    if (i === 0 && shown.length < s.count) {
      out.push(`- … ${s.count - shown.length} more …`);
    }
  });
  return out;
}

function frames(r: IncidentRecord): string[] {
  const section = (r.frames_section ?? "").trim();
  return [section === "" ? NO_FRAMES : section];
}

function envText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => code(`${k}=${v}`))
    .join(", ");
}

function stateAtIncident(r: IncidentRecord): string[] {
  const out = [`See ${code("state.json")}.`];
  const configured = r.env?.configured ?? {};
  const overlay = r.env?.overlay ?? {};
  // Overrides are only what a restart_with_env changed; the config's own process.env is listed
  // apart, so a reader never mistakes a base value for something autosentry set.
  const overrides = Object.entries(overlay).map(([k, v]) =>
    k in configured ? `${code(`${k}=${v}`)} (process.env: ${code(configured[k] ?? "")})` : code(`${k}=${v}`),
  );
  out.push(
    "",
    `**Env overrides the child ran with** (set by restart_with_env): ${overrides.length > 0 ? overrides.join(", ") : "*(none)*"}`,
  );
  if (Object.keys(configured).length > 0)
    out.push("", `**Env from the config** (process.env): ${envText(configured)}`);
  return out;
}

function related(r: IncidentRecord): string[] {
  return r.related.map((d) => {
    const t = d.at.slice(11, 19);
    return `- ${t} ${code(d.detector)} (${d.detector_kind}, ${d.kind}) — ${oneLine(d.message, 200)}`;
  });
}

function configs(r: IncidentRecord): string[] {
  if (r.configs.length === 0) return ["*(no config_snapshots configured)*"];
  return r.configs.map((c) => {
    const head = `- ${code(c.source)} — `;
    if (c.snapshot === null) return `${head}not copied: ${c.note ?? "missing"}`;
    return `${head}snapshot: ${code(c.snapshot)}${c.note ? ` (${c.note})` : ""}`;
  });
}

function logExcerpt(r: IncidentRecord): string[] {
  const out = [
    `See ${code("log_excerpt.txt")}: ${r.log_excerpt.lines} line(s) before the failure, then the detector's own context, then any lines that arrived after it.`,
  ];
  if (r.log_excerpt.tail.length > 0) {
    out.push(
      "",
      `Last ${r.log_excerpt.tail.length} line(s) before the failure:`,
      "",
      fenced(r.log_excerpt.tail.join("\n")),
    );
  }
  return out;
}

function envOverrides(a: OutcomeSummary): string {
  const asked = a.action?.set ?? {};
  const used = a.resolved_env ?? {};
  const keys = [...new Set([...Object.keys(used), ...Object.keys(asked)])];
  const parts = keys
    .filter((k) => k in used)
    .map((k) => {
      const from = asked[k];
      return `${code(`${k}=${used[k]}`)}${from !== undefined && from !== used[k] ? ` (from ${code(from)})` : ""}`;
    });
  return parts.length > 0 ? parts.join(", ") : "*(none)*";
}

function fixApplied(r: IncidentRecord): string[] {
  const o = r.outcome;
  if (o === null) return ["*(pending — no outcome recorded yet)*"];
  const out: string[] = [];
  if (o.action === null) {
    out.push("*(no fix applied)*");
    if (o.note) out.push("", oneLine(o.note));
    return out;
  }
  const a = o.action;
  let lead: string;
  if (o.source === "rule") lead = `Rule ${code(o.rule ?? "?")} matched.`;
  else if (o.source === "claude") lead = "Claude was invoked.";
  else if (o.source === "manual") lead = "An operator decided.";
  else lead = "The restart policy decided.";
  let what: string;
  if (a.kind === "restart_with_env") {
    what =
      o.resolved_env !== null
        ? `Restarted with overrides: ${envOverrides(o)}.`
        : `Requested overrides ${Object.entries(a.set)
            .map(([k, v]) => code(`${k}=${v}`))
            .join(", ")} were not applied.`;
  } else if (a.kind === "custom_command") {
    const c = o.command;
    if (c) {
      const status = c.timed_out
        ? `timed out${c.exit_code !== null ? ` (exit code ${c.exit_code})` : ""}`
        : `exit code ${c.exit_code ?? "unknown"}`;
      what = `Ran ${code(shellJoin(c.argv))}: ${status}. Output in ${code("fix/command_output.txt")}.`;
    } else {
      what = `Action ${code("custom_command")} ${code(shellJoin(a.command))} was not run.`;
    }
  } else {
    what = `Applied action ${code(a.kind)}.`;
  }
  out.push(`${lead} ${what}`);
  if (o.answered_detector !== null && o.answered_detector !== r.detector) {
    out.push(
      "",
      `It answered the ${code(o.answered_detector)} detection of this failure (the incident is filed under ${code(r.detector)}).`,
    );
  }
  if (o.has_response) out.push("", `See ${code("fix/claude_response.md")} for the agent's reply.`);
  if (o.has_diff) out.push("", `File edits captured in ${code("fix/diff.patch")}.`);
  if (o.note) out.push("", `Note: ${oneLine(o.note)}`);
  return out;
}

/** Rows of a series shown in the metrics table (the sparkline shows all points). */
const METRIC_ROWS = 15;

function seriesValue(v: number | string): number {
  return typeof v === "number" ? v : Number(v);
}

function valueText(v: number | string): string {
  if (typeof v === "string") return v === "Infinity" ? "inf" : v === "-Infinity" ? "-inf" : v;
  return String(Number(v.toPrecision(6)));
}

/** issue 11: the recent series as a sparkline and a table of the last points. */
function metrics(series: IncidentSeries[]): string[] {
  const out: string[] = [];
  for (const s of series) {
    const values = s.points.map((p) => seriesValue(p.v));
    const finite = values.filter((v) => Number.isFinite(v));
    const range =
      finite.length > 0 ? `, ${valueText(Math.min(...finite))} … ${valueText(Math.max(...finite))}` : "";
    out.push(
      `**${s.name}** (last ${s.points.length} point(s)${range}):`,
      "",
      fenced(sparkline(values)),
      "",
      "| step | value | time (UTC) |",
      "|---|---|---|",
      ...s.points
        .slice(-METRIC_ROWS)
        .map(
          (p) => `| ${p.step ?? "—"} | ${valueText(p.v)} | ${new Date(p.t).toISOString().slice(11, 19)} |`,
        ),
      "",
    );
  }
  return out;
}

/** issue 11: where the next run resumes. */
function resumeSection(r: IncidentRecord): string[] {
  const x = r.resume;
  if (!x) return [];
  if (x.checkpoint === null) return ["No complete checkpoint yet: the next run starts from the beginning."];
  const lost =
    x.steps_lost !== null
      ? ` The failed run had reached step ${x.last_step}: ${x.steps_lost} step(s) will be done again.`
      : "";
  return [
    `The next run resumes from ${code(x.checkpoint)}${x.step !== null ? ` (step ${x.step})` : ""}.${lost}`,
  ];
}

/** report.md for `r`. A pure function: the same record always renders the same text. */
export function renderReport(r: IncidentRecord): string {
  const p = r.process;
  const lines: string[] = [
    `# Incident — ${humanTime(r.time)} — ${r.kind} / ${r.detector}`,
    "",
    `**Process:** ${p.kind} · ${code(shellJoin(p.argv))}  `,
    `**PID:** ${p.pid ?? "—"}  `,
    `**Restart #:** ${r.restarts}/${capText(r.max_restarts)}  `,
    `**Detector:** ${code(r.detector)} (${r.detector_kind})  `,
    `**Resolution:** ${resolution(r.outcome)}`,
    "",
    "---",
    "",
    "## Summary",
    "",
    ...summary(r),
    "",
  ];
  if ((r.seen_before?.count ?? 0) > 0)
    lines.push("## Earlier incidents of this failure", "", ...earlier(r), "");
  lines.push(
    "## Source frames",
    "",
    ...frames(r),
    "",
    "## Stack trace",
    "",
    r.trace ? fenced(r.trace.text) : "*(no stack trace)*",
    "",
  );
  if (r.metrics && r.metrics.length > 0) lines.push("## Metrics", "", ...metrics(r.metrics));
  if (r.resume) lines.push("## Checkpoint", "", ...resumeSection(r), "");
  if (r.related.length > 1) lines.push("## Related detections", "", ...related(r), "");
  lines.push(
    "## Configs at incident",
    "",
    ...configs(r),
    "",
    "## State at incident",
    "",
    ...stateAtIncident(r),
    "",
    "## Log excerpt",
    "",
    ...logExcerpt(r),
    "",
    "## Fix applied",
    "",
    ...fixApplied(r),
    "",
  );
  return lines.join("\n");
}
