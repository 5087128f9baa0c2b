import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createTokenFile, Guard, isLoopbackHost, readTokenFile } from "./auth.ts";
import { renderMarkdown } from "./markdown.ts";
import { resolveInside } from "./safe-path.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "as-web-safety-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("resolveInside", () => {
  test("plain files inside are served; traversal and links out are refused", () => {
    const base = path.join(tmp, "inc");
    fs.mkdirSync(path.join(base, "fix"), { recursive: true });
    fs.writeFileSync(path.join(base, "fix", "diff.patch"), "x");
    fs.writeFileSync(path.join(tmp, "secret"), "s");
    fs.symlinkSync(path.join(tmp, "secret"), path.join(base, "leak"));
    fs.symlinkSync(path.join(base, "fix", "diff.patch"), path.join(base, "inner"));
    expect(resolveInside(base, "fix/diff.patch").ok).toBe(true);
    expect(resolveInside(base, "inner").ok).toBe(true);
    expect(resolveInside(base, "leak")).toEqual({ ok: false, why: "outside" });
    for (const bad of ["../secret", "fix/../../secret", "/etc/passwd", "fix//diff.patch", "a\\b", "x\0"])
      expect(resolveInside(base, bad)).toEqual({ ok: false, why: "invalid" });
    expect(resolveInside(base, "fix")).toEqual({ ok: false, why: "not_found" });
  });
});

describe("auth", () => {
  test("loopback names, token files of mode 0600 only, and the CSRF check", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"].every(isLoopbackHost)).toBe(true);
    expect(["0.0.0.0", "10.0.0.1", "example.org"].some(isLoopbackHost)).toBe(false);
    const f = path.join(tmp, "token");
    const t = createTokenFile(f);
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(readTokenFile(f)).toBe(t);
    fs.chmodSync(f, 0o644);
    expect(() => readTokenFile(f)).toThrow(/readable by others/);
    expect(readTokenFile(path.join(tmp, "missing"))).toBeNull();

    const g = new Guard({ token: t, loopback: false });
    expect(g.authenticated(new Headers())).toBe(false);
    expect(g.authenticated(new Headers({ authorization: `Bearer ${t}` }))).toBe(true);
    const link = g.newLoginLink();
    const once = link.split("once=")[1]!;
    const cookie = g.redeem(once)!;
    expect(cookie).toContain("HttpOnly; SameSite=Strict");
    expect(g.redeem(once)).toBeNull();
    expect(g.authenticated(new Headers({ cookie: cookie.split(";")[0]! }))).toBe(true);
    const self = "http://127.0.0.1:1";
    expect(g.csrfValid(new Headers(), null, self)).toBe(false);
    expect(g.csrfValid(new Headers(), g.csrf, self)).toBe(true);
    expect(g.csrfValid(new Headers({ origin: "http://evil" }), g.csrf, self)).toBe(false);
    const lo = new Guard({ token: null, loopback: true });
    expect(lo.hostAllowed("127.0.0.1:8765")).toBe(true);
    expect(lo.hostAllowed("[::1]:8765")).toBe(true);
    expect(lo.hostAllowed("evil.example:8765")).toBe(false);
  });
});

describe("markdown", () => {
  test("raw HTML stays text; code in an embedded grammar is highlighted by tree-sitter", async () => {
    const html = await renderMarkdown(
      '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n```python\ndef f():\n    return "<b>"\n```\n',
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain('<span class="hl-keyword">def</span>');
    expect(html).toContain("&quot;&lt;b&gt;&quot;");
  });

  test("links are rewritten by the caller; javascript: links are not rendered as links", async () => {
    const html = await renderMarkdown(
      "[a](../ID/report.md) [b](javascript:alert(1)) [[notes/x|X]] [[gone]]",
      {
        link: (h) => (h === "../ID/report.md" ? "/incidents/ID" : null),
        wikilink: (t) => (t === "notes/x" ? "/vault/notes/x" : null),
      },
    );
    expect(html).toContain('href="/incidents/ID"');
    expect(html).toContain('href="/vault/notes/x"');
    expect(html).toContain("<code>gone</code>");
    expect(html).not.toContain('href="javascript:');
  });
});

describe("source frames", () => {
  test("the line gutter is kept out of the parse and put back, the frame's line marked", async () => {
    const block = "```python\n    1  def f(x):\n>>> 2      return x / 0\n    3  \n```\n";
    const html = await renderMarkdown(block);
    expect(html).toContain('<span class="gutter">    1  </span><span class="hl-keyword">def</span>');
    expect(html).toContain(
      '<span class="gutter hot">&gt;&gt;&gt; 2  </span>    <span class="hl-keyword">return</span>',
    );
    expect(html).not.toContain('hl-number">1</span>');
  });
});
