/**
 * @module
 * One frame of `autosentry watch`, as lines of text for a terminal of `width` × `height`: the
 * state, restarts, verification windows, the newest incidents, each detector's last firing and
 * the log tail. A pure function of {@link WatchData}; 80×24 shows every section, a larger terminal
 * gets more incidents, wider columns and a longer log tail. Colour is SGR codes, left out when
 * `color` is false (NO_COLOR, not a TTY).
 */

export interface WatchIncident {
  id: string;
  time: string;
  detector: string;
  action: string | null;
  message: string;
}

export interface WatchProject {
  name: string;
  phase: string;
  monitor: string;
  child: string;
  restarts: string;
  lastExit: string;
  nextRestart: string | null;
  stopReason: string | null;
  verifying: string[];
  heartbeat: string;
  incidents: WatchIncident[];
  incidentCount: number;
  detectors: Array<{ name: string; last: string | null }>;
  logTail: string[];
}

export interface WatchData {
  /** One project, or several (`--root`). */
  projects: WatchProject[];
  root: string | null;
  now: Date;
}

export interface FrameOptions {
  width: number;
  height: number;
  color: boolean;
}

const SGR = {
  bold: "\x1b[1m",
  dim: "\x1b[2m",
  red: "\x1b[31m",
  green: "\x1b[32m",
  yellow: "\x1b[33m",
  magenta: "\x1b[35m",
  cyan: "\x1b[36m",
  reset: "\x1b[0m",
};

type Style = keyof typeof SGR;

/** Printable width of `s` (escape sequences excluded; one column per code point). */
export function visibleLength(s: string): number {
  return [...s.replace(/\x1b\[[0-9;]*m/g, "")].length;
}

/** Cut plain text to `n` columns with an ellipsis; control characters become spaces. */
export function fit(s: string, n: number): string {
  const clean = s.replace(/[\x00-\x1f\x7f]/g, " ");
  const cps = [...clean];
  if (cps.length <= n) return clean;
  return n <= 1 ? cps.slice(0, n).join("") : `${cps.slice(0, n - 1).join("")}…`;
}

function phaseStyle(phase: string): Style {
  if (phase.startsWith("running") || phase === "completed") return "green";
  if (/paused|backoff|starting|stopping|detached/.test(phase)) return "yellow";
  if (/gave_up|aborted|not running/.test(phase)) return "red";
  return "bold";
}

function logStyle(line: string): Style | null {
  if (/\[(ERROR|CRITICAL)\]/.test(line)) return "red";
  if (/\[(WARN|WARNING|ANOMALY)\]/.test(line)) return "yellow";
  if (/\[(RECOVERY|ACTION)\]/.test(line)) return "magenta";
  if (/\[CLAUDE\]/.test(line)) return "cyan";
  return null;
}

class Out {
  readonly lines: string[] = [];
  constructor(private readonly o: FrameOptions) {}
  paint(text: string, style: Style | null): string {
    return this.o.color && style ? `${SGR[style]}${text}${SGR.reset}` : text;
  }
  /** Add a line of plain text, cut to the width, in one style. */
  line(text: string, style: Style | null = null): void {
    this.lines.push(this.paint(fit(text, this.o.width), style));
  }
  /** Add a line from parts, each cut to what is left of the width. */
  parts(parts: Array<[string, Style | null]>): void {
    let left = this.o.width;
    let out = "";
    for (const [t, s] of parts) {
      if (left <= 0) break;
      const cut = fit(t, left);
      left -= [...cut].length;
      out += this.paint(cut, s);
    }
    this.lines.push(out);
  }
  rule(title: string): void {
    const head = `── ${title} `;
    this.line(head + "─".repeat(Math.max(0, this.o.width - [...head].length)), "dim");
  }
}

const hhmmss = (iso: string) => (iso.length >= 19 ? iso.slice(11, 19) : iso);
const daytime = (iso: string) => (iso.length >= 19 ? `${iso.slice(5, 10)} ${iso.slice(11, 19)}` : iso);

function projectBlock(
  out: Out,
  p: WatchProject,
  o: FrameOptions,
  rows: { incidents: number; log: number },
): void {
  out.parts([
    ["phase ", "dim"],
    [p.phase, phaseStyle(p.phase)],
    ["  monitor ", "dim"],
    [p.monitor, null],
  ]);
  out.parts([
    ["child ", "dim"],
    [p.child, null],
  ]);
  out.parts([
    ["restarts ", "dim"],
    [p.restarts, null],
    ["  last exit ", "dim"],
    [p.lastExit, null],
    ...(p.nextRestart
      ? ([
          ["  next restart ", "dim"],
          [p.nextRestart, "yellow"],
        ] as Array<[string, Style | null]>)
      : []),
  ]);
  out.parts([
    ["verifying ", "dim"],
    [p.verifying.length ? p.verifying.join("; ") : "none", p.verifying.length ? "magenta" : null],
    ["  heartbeat ", "dim"],
    [p.heartbeat, null],
  ]);
  if (p.stopReason)
    out.parts([
      ["stop reason ", "dim"],
      [p.stopReason, null],
    ]);
  out.rule(`newest incidents (${p.incidentCount} in all)`);
  if (p.incidents.length === 0) out.line("none recorded", "dim");
  const wide = o.width >= 120;
  for (const e of p.incidents.slice(0, rows.incidents)) {
    const idw = wide ? 44 : 0;
    out.parts([
      [`${daytime(e.time)}  `, "dim"],
      ...(wide ? ([[`${e.id.padEnd(idw)} `, null]] as Array<[string, Style | null]>) : []),
      [`${e.detector.padEnd(12)} `, "red"],
      [`${(e.action ?? "-").padEnd(wide ? 18 : 10)} `, null],
      [e.message, null],
    ]);
  }
  out.rule("detectors (last firing)");
  const cells = p.detectors.map((d) => `${d.name} ${d.last ? hhmmss(d.last) : "never"}`);
  let cur = "";
  const lines: string[] = [];
  for (const c of cells) {
    if (cur && [...cur].length + 3 + [...c].length > o.width) {
      lines.push(cur);
      cur = c;
    } else cur = cur ? `${cur} · ${c}` : c;
  }
  if (cur) lines.push(cur);
  for (const l of lines.slice(0, 2)) out.line(l);
  if (rows.log > 0) {
    out.rule("log tail");
    const tail = p.logTail.slice(-rows.log);
    if (tail.length === 0) out.line("(empty)", "dim");
    for (const l of tail) out.line(l, logStyle(l));
  }
}

/** The frame's lines: exactly `height` of them (padded), none wider than `width`. */
export function renderFrame(d: WatchData, o: FrameOptions): string[] {
  const out = new Out(o);
  const stamp = `${d.now.toISOString().slice(0, 19).replace("T", " ")} UTC`;
  const title = d.root
    ? `autosentry watch — ${d.projects.length} project${d.projects.length === 1 ? "" : "s"} under ${d.root}`
    : `autosentry watch — ${d.projects[0]?.name ?? "?"}`;
  const gap = Math.max(1, o.width - [...title].length - stamp.length);
  out.parts([
    [title, "bold"],
    [" ".repeat(gap), null],
    [stamp, "dim"],
  ]);
  const footer = "q quit · redraws on change and resize";
  const budget = o.height - 2; // title and footer
  if (d.root) {
    out.rule("projects");
    const w = o.width >= 120 ? 24 : 16;
    out.line(
      `${"project".padEnd(w)} ${"phase".padEnd(12)} ${"restarts".padEnd(8)} ${"inc".padStart(5)}  newest incident`,
      "dim",
    );
    const rows = Math.max(1, budget - 3);
    for (const p of d.projects.slice(0, rows)) {
      const newest = p.incidents[0];
      // One line a project: name, phase, unverified restarts against the budget, incidents, the newest.
      const wide = o.width >= 120;
      out.parts([
        [`${fit(p.name, wide ? 24 : 16).padEnd(wide ? 24 : 16)} `, "bold"],
        [`${fit(p.phase, 12).padEnd(12)} `, phaseStyle(p.phase)],
        [`${(p.restarts.split(" ")[0] ?? "-").padEnd(8)} `, null],
        [`${String(p.incidentCount).padStart(5)}  `, null],
        [
          newest
            ? wide
              ? `${daytime(newest.time)} ${newest.detector}: ${newest.message}`
              : newest.message
            : "no incidents",
          newest ? null : "dim",
        ],
      ]);
    }
    if (d.projects.length === 0) out.line("no project with a .autosentry folder found", "dim");
  } else if (d.projects[0]) {
    const p = d.projects[0];
    // Fixed lines: 4 state lines (+1 stop reason), 3 rules, detector lines (≤2). The rest is shared.
    const fixed =
      4 + (p.stopReason ? 1 : 0) + 3 + Math.min(2, Math.max(1, Math.ceil(p.detectors.length / 4)));
    const free = Math.max(2, budget - fixed);
    const incidents = Math.max(
      1,
      Math.min(Math.max(1, p.incidents.length), Math.min(15, Math.floor(free * 0.4))),
    );
    const log = Math.max(0, free - incidents);
    projectBlock(out, p, o, { incidents, log });
  }
  const lines = out.lines.slice(0, o.height - 1);
  while (lines.length < o.height - 1) lines.push("");
  lines.push(out.paint(fit(footer, o.width), "dim"));
  return lines;
}
