/**
 * @module
 * Markdown for the viewer (report.md, frames, vault notes) through markdown-it with raw HTML
 * disabled (a `<script>` in a report stays text) and linkify on. Fenced code in an embedded
 * grammar's language is highlighted by tree-sitter ({@link highlight}); relative links are
 * rewritten by the caller's `link` function so they land on the viewer's routes, never on files
 * outside the store. Obsidian `[[target|label]]` links are turned into Markdown links first.
 */
import MarkdownIt from "markdown-it";
import { fenceLanguages, highlight, prepareLanguages } from "./highlight.ts";
import { escapeHtml } from "./html.ts";

export interface RenderOptions {
  /** Rewrites a relative link target (`../ID/report.md`, `frames/01.md`); null = leave as text. */
  link?: (href: string) => string | null;
  /** Rewrites `[[target]]` wikilinks to a URL; null = render as inline code (unresolved). */
  wikilink?: (target: string) => string | null;
}

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight: (code, lang) => {
    const cls = lang ? ` class="language-${escapeHtml(lang.replace(/[^A-Za-z0-9_+-]/g, ""))}"` : "";
    return `<pre class="code"><code${cls}>${highlightFrame(lang.toLowerCase(), code)}</code></pre>`;
  },
});

/** A frame's line gutter (src/frames/window.ts): `>>>` or three spaces, the line number, two spaces. */
const GUTTER = /^(?:>>>| {3}) (?: *\d+| +) {2}/;

/**
 * Highlighted HTML of a code block. A source frame's block has a gutter on every line (the marker
 * and the line number): the gutter is cut off before parsing, so the grammar sees only source,
 * and put back in front of each highlighted line (the frame's own line marked `hot`).
 */
function highlightFrame(lang: string, code: string): string {
  const lines = code.replace(/\n$/, "").split("\n");
  const gutters = lines.map((l) => GUTTER.exec(l)?.[0] ?? null);
  if (lines.length === 0 || gutters.some((g) => g === null)) return highlight(lang, code) ?? escapeHtml(code);
  const source = lines.map((l, i) => l.slice(gutters[i]!.length)).join("\n");
  const body = (highlight(lang, source) ?? escapeHtml(source)).split("\n");
  return `${body
    .map((l, i) => {
      const g = gutters[i]!;
      return `<span class="gutter${g.startsWith(">>>") ? " hot" : ""}">${escapeHtml(g)}</span>${l}`;
    })
    .join("\n")}\n`;
}

const defaultLinkOpen =
  md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));

md.renderer.rules.link_open = (tokens, idx, options, rawEnv, self) => {
  const env = (rawEnv ?? {}) as RenderOptions;
  const tok = tokens[idx]!;
  const href = String(tok.attrGet("href") ?? "");
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//")) {
    // Absolute links (http, mailto) leave the viewer: never send the referrer, open apart.
    tok.attrSet("rel", "noopener noreferrer");
  } else if (!href.startsWith("#") && !href.startsWith("/") && env.link) {
    // Relative links are the caller's to map; site-absolute ones (resolved wikilinks) stay.
    const to = env.link(href);
    tok.attrSet("href", to ?? "#");
  }
  return defaultLinkOpen(tokens, idx, options, rawEnv, self);
};

/** Obsidian links to Markdown links (or inline code when unresolved). */
function wikilinks(text: string, resolve: RenderOptions["wikilink"]): string {
  if (!resolve) return text;
  return text.replace(/\[\[([^\]|\n]+)(?:\|([^\]\n]+))?\]\]/g, (_m, target: string, label?: string) => {
    const url = resolve(target.trim());
    const shown = (label ?? target).trim().replace(/[[\]]/g, "");
    return url === null
      ? `\`${shown}\``
      : `[${shown}](${url.replace(/[()\s]/g, (c) => encodeURIComponent(c))})`;
  });
}

/** Markdown to safe HTML; loads the grammars its code blocks need first. */
export async function renderMarkdown(text: string, opts: RenderOptions = {}): Promise<string> {
  await prepareLanguages(fenceLanguages(text));
  return md.render(wikilinks(text, opts.wikilink), { ...opts });
}

/** Strip a leading YAML front matter block (`---` … `---`). */
export function stripFrontMatter(text: string): string {
  const m = /^---\r?\n[\s\S]*?\r?\n---\r?\n?/.exec(text);
  return m ? text.slice(m[0].length) : text;
}
