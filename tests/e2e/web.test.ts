/**
 * End-to-end: `autosentry web` (the compiled binary) in front of real projects written by real
 * monitor runs, driven by headless Debian Chromium through playwright-core. Every page must load
 * without a console error (a CSP violation is one) and without a request leaving 127.0.0.1; a
 * screenshot of each is saved under tests/output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BrowserContext } from "playwright-core";
import {
  alive,
  FIXTURES,
  incidentIds,
  makeProject,
  readFile,
  readState,
  run,
  start,
  waitFor,
} from "./helpers.ts";
import { launchBrowser, shot, startWebProc, type WebProc, watchedPage } from "./web-helpers.ts";

const job = (name: string) => fs.readFileSync(path.join(FIXTURES, "jobs", name), "utf8");

/** A Node job that prints HTML into its log, then fails once with a stack trace from a function. */
const HOSTILE_JOB = `import * as fs from "node:fs";
function trainStep(batch) {
  if (batch > 32) throw new Error("loss is NaN at step 12");
  return batch;
}
console.log("<script>window.__pwned = 1</script>");
console.log('<img src=x onerror="window.__pwned = 2">');
if (!fs.existsSync("ran")) {
  fs.writeFileSync("ran", "1");
  trainStep(64);
}
console.log("done");
`;

const CONFIG = (cmd: string) => `process:
  command: ${cmd}
  restart_policy: { cooldown_seconds: 0.2 }
detectors:
  - kind: traceback
`;

let browser: BrowserContext;
let dir: string;
let web: WebProc;
let ids: string[];

beforeAll(async () => {
  dir = makeProject(
    { "app.mjs": HOSTILE_JOB, "job.mjs": job("oom.mjs"), "train.yaml": "lr: 0.1  # <b>not bold</b>\n" },
    `${CONFIG("[node, app.mjs]")}config_snapshots: [train.yaml]\n`,
  );
  const r = await run(["run"], { cwd: dir });
  expect(r.code).toBe(0);
  // A second failure of another kind: the OOM job (restarted by the default policy).
  fs.writeFileSync(
    path.join(dir, ".autosentry", "autosentry.yaml"),
    `process:
  command: [node, job.mjs]
  env: { BATCH_SIZE: 64 }
  restart_policy: { cooldown_seconds: 0.2 }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
  - kind: traceback
rules:
  - name: oom_halve_batch
    match: { detector: oom }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`,
  );
  const r2 = await run(["run"], { cwd: dir });
  expect(r2.code).toBe(0);
  // A third kind: a plain exit code (no trace), caught by the exit-code detector.
  fs.writeFileSync(path.join(dir, "job.sh"), job("crash-once.sh"));
  fs.writeFileSync(path.join(dir, ".autosentry", "autosentry.yaml"), CONFIG("[sh, job.sh]"));
  const r3 = await run(["run"], { cwd: dir });
  expect(r3.code).toBe(0);
  // In the order they were opened (index.jsonl): folder names sort by second, then by kind, so two
  // incidents of one second would sort out of order.
  ids = [
    ...new Set(
      fs
        .readFileSync(path.join(dir, ".autosentry", "incidents", "index.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ),
  ];
  expect([...ids].sort()).toEqual(incidentIds(dir));
  expect(ids.length).toBe(4);
  // What the coding agent leaves in a folder when it answers (fix/claude_response.md, fix/diff.patch;
  // src/incidents/store.ts): written here as files, since no agent runs in this test.
  const fix = path.join(dir, ".autosentry", "incidents", ids[0]!, "fix");
  fs.mkdirSync(fix, { recursive: true });
  fs.writeFileSync(
    path.join(fix, "claude_response.md"),
    "The step **diverged**: lowered the rate.\n\n<script>window.__pwned = 3</script>\n",
  );
  fs.writeFileSync(
    path.join(fix, "diff.patch"),
    'diff --git a/app.mjs b/app.mjs\n--- a/app.mjs\n+++ b/app.mjs\n@@ -2,3 +2,3 @@\n function trainStep(batch) {\n-  if (batch > 32) throw new Error("loss is NaN at step 12");\n+  if (batch > 64) throw new Error("loss is NaN at step 12");\n   return batch;\n',
  );
  web = await startWebProc(dir);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await web?.stop();
});

describe("pages", () => {
  test("every page loads without console errors or off-host requests, and is screenshotted", async () => {
    const { page, problems } = await watchedPage(browser);
    const pages: Array<[string, string]> = [
      ["overview", ""],
      ["incidents", "incidents"],
      ["incidents-grouped", "incidents?view=grouped"],
      ["incident", `incidents/${ids[0]}`],
      ["incident-oom", `incidents/${ids[2]}`],
      ["incident-exit", `incidents/${ids[3]}`],
      ["attempts", "attempts"],
      ["events", "events"],
      ["pipeline", "pipeline"],
      ["vault", "vault"],
      ["confirm-pause", "confirm/pause"],
    ];
    for (const [name, rel] of pages) {
      const res = await page.goto(web.url + rel);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
      await page.waitForLoadState("networkidle");
      await shot(page, name);
    }
    // The first vault note reached through the vault page's links, and a link inside it.
    await page.goto(`${web.url}vault`);
    const first = page.locator("main a[href^='/vault/']").first();
    await first.click();
    await page.waitForLoadState("networkidle");
    expect(page.url()).toContain("/vault/");
    await shot(page, "vault-note");
    const inner = page.locator("section.markdown a[href^='/vault/']").first();
    if ((await inner.count()) > 0) {
      const href = await inner.getAttribute("href");
      const res = await page.goto(new URL(href!, web.url).href);
      expect(res?.status()).toBe(200);
    }
    expect(problems.consoleErrors).toEqual([]);
    expect(problems.offHost).toEqual([]);
  });

  test("the attempts page draws its charts with the embedded uPlot", async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${web.url}attempts`);
    await page.waitForSelector(".chart canvas");
    expect(await page.locator(".chart canvas").count()).toBeGreaterThan(0);
    expect(await page.locator("#rules tbody tr").count()).toBeGreaterThan(0);
    await shot(page, "attempts-charts");
    expect(problems.consoleErrors).toEqual([]);
  });

  test("a log with <script> and <img onerror> renders them as text", async () => {
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${web.url}incidents/${ids[0]}`);
    const log = await page.locator("#log-excerpt pre").textContent();
    expect(log).toContain("<script>window.__pwned = 1</script>");
    expect(log).toContain('<img src=x onerror="window.__pwned = 2">');
    expect(await page.locator("main img").count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned ?? null),
    ).toBeNull();
    // The agent's reply is Markdown without raw HTML; the diff is shown line by line.
    expect(await page.locator("#agent-reply strong").textContent()).toBe("diverged");
    expect(await page.locator("#agent-reply").textContent()).toContain("<script>window.__pwned = 3</script>");
    expect(await page.locator("#diff .del").count()).toBe(1);
    expect(await page.locator("#diff .add").count()).toBe(1);
    expect(await page.locator("#diff .hunk").textContent()).toContain("@@ -2,3 +2,3 @@");
    // The config snapshot, as text.
    expect(await page.locator("#configs pre").first().textContent()).toContain("lr: 0.1  # <b>not bold</b>");
    // The report's source frame is highlighted by tree-sitter (spans with capture classes).
    expect(await page.locator("#report pre.code .gutter.hot").count()).toBeGreaterThan(0);
    expect(await page.locator("#report pre.code .hl-keyword").count()).toBeGreaterThan(0);
    expect(await page.locator("#report").textContent()).toContain("trainStep");
    expect(problems.consoleErrors).toEqual([]);
  });

  test("search, filters, grouped view and pagination", async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${web.url}incidents?per_page=1`);
    expect(await page.locator("table.incidents tbody tr").count()).toBe(1);
    expect(await page.locator(".pager").first().textContent()).toContain("page 1 of 4");
    expect(await page.locator("table.incidents tbody tr").getAttribute("data-id")).toBe(ids[3]!);
    await page.locator("a[rel=next]").first().click();
    await page.waitForURL(/page=2/);
    expect(await page.locator(".pager").first().textContent()).toContain("page 2 of 4");
    const onPage2 = await page.locator("table.incidents tbody tr").getAttribute("data-id");
    expect(onPage2).toBe(ids[2]!);

    await page.goto(`${web.url}incidents`);
    await page.fill("input[name=q]", "loss is NaN");
    await page.locator("form.filters button[type=submit]").click();
    await page.waitForURL(/q=loss/);
    const rows = page.locator("table.incidents tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.getAttribute("data-id")).toBe(ids[0]!);

    // The detector of the exit-code incident (the only incident not from a traceback).
    const exitDetector = (
      (await (await fetch(`${web.url}api/incidents/${ids[3]}`)).json()) as {
        entry: { detector: string };
      }
    ).entry.detector;
    expect(exitDetector).not.toBe("traceback");
    await page.goto(`${web.url}incidents`);
    await page.selectOption("select[name=detector]", exitDetector);
    await page.waitForURL(/detector=/);
    const exitRows = await page
      .locator("table.incidents tbody tr")
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")));
    expect(exitRows).toEqual([ids[3]!]);
    const api = (await (await fetch(`${web.url}api/incidents?detector=traceback`)).json()) as {
      items: Array<{ id: string; detector: string }>;
    };
    expect(api.items.map((i) => i.id)).toEqual([ids[2]!, ids[1]!, ids[0]!]);

    // A time range that ends before the first incident matches nothing.
    await page.goto(`${web.url}incidents?until=2000-01-01`);
    expect(await page.locator("table.incidents tbody tr").count()).toBe(0);

    await page.goto(`${web.url}incidents?view=grouped`);
    const groups = page.locator("table.groups tbody tr");
    expect(await groups.count()).toBeGreaterThan(0);
    await groups.first().locator("td a").first().click();
    await page.waitForURL(/group=/);
    expect(await page.locator("table.incidents tbody tr").count()).toBeGreaterThan(0);
  });

  test("the incident page links to its group and earlier occurrences", async () => {
    const { page } = await watchedPage(browser);
    await page.goto(`${web.url}incidents/${ids[2]}`);
    const groupLink = page.locator("a", { hasText: /incidents? of this failure/ });
    expect(await groupLink.count()).toBe(1);
    const earlier = page.locator("dd a[href*='/incidents/']");
    expect(await earlier.count()).toBeGreaterThan(0);
  });
});

describe("live updates", () => {
  test("a new incident appears on the open overview without a reload", async () => {
    const fresh = makeProject({ "job.sh": job("crash-once.sh") }, CONFIG("[sh, job.sh]"));
    const w = await startWebProc(fresh);
    try {
      const { page, problems } = await watchedPage(browser);
      await page.goto(w.url);
      expect(await page.locator("tr[data-id]").count()).toBe(0);
      await page.waitForSelector("#live-status.on");
      await page.evaluate(() => {
        (globalThis as unknown as { __same?: boolean }).__same = true;
      });
      const r = await run(["run"], { cwd: fresh });
      expect(r.code).toBe(0);
      const id = incidentIds(fresh)[0]!;
      await page.waitForSelector(`tr[data-id="${id}"]`, { timeout: 30_000 });
      expect(await page.evaluate(() => (globalThis as unknown as { __same?: boolean }).__same)).toBe(true);
      await shot(page, "overview-live");
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await w.stop();
    }
  });
});

describe("security", () => {
  test("a traversal id and a symlink out of the store are refused", async () => {
    const inc = path.join(dir, ".autosentry", "incidents", ids[0]!);
    fs.symlinkSync("/etc/passwd", path.join(inc, "leak.txt"));
    fs.symlinkSync("/etc", path.join(dir, ".autosentry", "incidents", "escape"));
    const get = async (rel: string) => {
      const res = await fetch(web.url + rel);
      return { status: res.status, body: await res.text() };
    };
    for (const rel of [
      `incidents/${ids[0]}/raw/leak.txt`,
      `incidents/${ids[0]}/raw/..%2F..%2F..%2F..%2Fetc%2Fpasswd`,
      `incidents/${ids[0]}/raw/%2e%2e/%2e%2e/autosentry.yaml`,
      "incidents/..%2F..%2F..%2Fetc/raw/passwd",
      "incidents/escape/raw/passwd",
      "incidents/escape",
      "api/incidents/..%2Fetc",
    ]) {
      const r = await get(rel);
      expect([400, 403, 404]).toContain(r.status);
      expect(r.body).not.toContain("root:");
    }
    // A file of the folder itself is served, as text.
    const ok = await fetch(`${web.url}incidents/${ids[0]}/raw/log_excerpt.txt`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toStartWith("text/plain");
    fs.rmSync(path.join(inc, "leak.txt"));
    fs.rmSync(path.join(dir, ".autosentry", "incidents", "escape"));
  });

  test("a POST without the CSRF token (or from another origin) is refused", async () => {
    const form = (body: Record<string, string>) => new URLSearchParams(body).toString();
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const none = await fetch(`${web.url}actions/pause`, { method: "POST", headers, body: form({}) });
    expect(none.status).toBe(403);
    const wrong = await fetch(`${web.url}actions/pause`, {
      method: "POST",
      headers,
      body: form({ _csrf: "nope" }),
    });
    expect(wrong.status).toBe(403);
    const html = await (await fetch(`${web.url}confirm/pause`)).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const foreign = await fetch(`${web.url}actions/pause`, {
      method: "POST",
      headers: { ...headers, origin: "http://evil.example" },
      body: form({ _csrf: token }),
    });
    expect(foreign.status).toBe(403);
    const viaGet = await fetch(`${web.url}actions/pause`);
    expect(viaGet.status).toBe(404);
    expect(readState(dir)!.desired).toBe("running");
  });

  test("a foreign Host header is refused on a loopback bind (DNS rebinding)", async () => {
    const res = await fetch(web.url, { headers: { host: "attacker.example" } });
    expect(res.status).toBe(421);
  });

  test("a non-loopback bind without a token refuses to start; with one, only the token or a login link gets in", async () => {
    const refused = await run(["web", "--host", "0.0.0.0", "--port", "0"], { cwd: dir, timeoutMs: 20_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("Refusing to listen on 0.0.0.0 without a token");
    expect(refused.stdout).toBe("");

    const w = await startWebProc(dir, ["--host", "0.0.0.0", "--new-token"]);
    try {
      const token = /access token \(shown once, kept in (\S+)\): (\S+)/.exec(w.output());
      expect(token).not.toBeNull();
      const file = token![1]!;
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(readFile(dir, path.relative(dir, file)).trim()).toBe(token![2]!);
      const base = w.url.replace("0.0.0.0", "127.0.0.1");
      expect((await fetch(`${base}api/status`)).status).toBe(401);
      expect((await fetch(`${base}api/status`, { headers: { authorization: "Bearer wrong" } })).status).toBe(
        401,
      );
      const ok = await fetch(`${base}api/status`, { headers: { authorization: `Bearer ${token![2]}` } });
      expect(ok.status).toBe(200);
      const link = /one-time login link \(valid 10 minutes\): (\S+)/
        .exec(w.output())![1]!
        .replace("0.0.0.0", "127.0.0.1");
      const first = await fetch(link, { redirect: "manual" });
      expect(first.status).toBe(303);
      const cookie = first.headers.get("set-cookie")!;
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Strict");
      const withCookie = await fetch(`${base}incidents`, { headers: { cookie: cookie.split(";")[0]! } });
      expect(withCookie.status).toBe(200);
      expect((await fetch(link, { redirect: "manual" })).status).toBe(403);
    } finally {
      await w.stop();
    }
    // Stored now: the next start on that address needs no --new-token and prints no token.
    const again = await startWebProc(dir, ["--host", "0.0.0.0"]);
    try {
      expect(again.output()).not.toContain("access token");
    } finally {
      await again.stop();
    }
  });
});

describe("operator actions", () => {
  test("pause from the page stops the child and `status` says so", async () => {
    const proj = makeProject({ "job.sh": job("forever.sh") }, CONFIG("[sh, job.sh]"));
    const mon = start(["run"], { cwd: proj });
    await waitFor(
      "the child to run",
      () => readState(proj)?.child_running === true && fs.existsSync(path.join(proj, "child.pid")),
    );
    const childPid = Number(readFile(proj, "child.pid").trim());
    const w = await startWebProc(proj);
    try {
      const { page, problems } = await watchedPage(browser);
      await page.goto(w.url);
      await page.locator("a", { hasText: "Pause…" }).click();
      await page.waitForURL(/confirm\/pause/);
      await shot(page, "confirm");
      await page.fill("input[name=reason]", "disk maintenance");
      await page.locator("#confirm").click();
      await page.waitForSelector("#result");
      expect(await page.locator("#result").textContent()).toContain("paused");
      const st = await run(["status", "--json"], { cwd: proj });
      expect(JSON.parse(st.stdout).phase).toBe("paused");
      expect(alive(childPid)).toBe(false);
      const events = fs.readFileSync(path.join(proj, ".autosentry", "logs", "events.jsonl"), "utf8");
      expect(events).toContain('"paused"');
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await w.stop();
      await run(["abort"], { cwd: proj });
      await mon.wait(30_000);
    }
  });
});

describe("--root", () => {
  test("every project under DIR side by side, each with the same pages", async () => {
    const rootDir = path.dirname(makeProject());
    const holder = fs.mkdtempSync(path.join(rootDir, "as-root-"));
    for (const name of ["alpha", "beta"]) {
      const p = path.join(holder, name);
      fs.mkdirSync(p);
      fs.writeFileSync(path.join(p, "job.sh"), job("crash-once.sh"));
      fs.mkdirSync(path.join(p, ".autosentry"));
      fs.writeFileSync(path.join(p, ".autosentry", "autosentry.yaml"), CONFIG("[sh, job.sh]"));
      expect((await run(["run"], { cwd: p })).code).toBe(0);
    }
    const w = await startWebProc(holder, ["--root", holder]);
    try {
      const { page, problems } = await watchedPage(browser);
      await page.goto(w.url);
      expect(await page.locator("section.project").count()).toBe(2);
      await shot(page, "root-projects");
      await page.locator("section.project h2 a", { hasText: "beta" }).click();
      await page.waitForURL(/\/p\/beta$/);
      expect(await page.locator("tr[data-id]").count()).toBe(1);
      await page.goto(`${w.url}p/alpha/incidents`);
      expect(await page.locator("table.incidents tbody tr").count()).toBe(1);
      const api = (await (await fetch(`${w.url}api/projects`)).json()) as {
        projects: Array<{ slug: string }>;
      };
      expect(api.projects.map((p) => p.slug)).toEqual(["alpha", "beta"]);
      expect(problems.consoleErrors).toEqual([]);
      expect(problems.offHost).toEqual([]);
    } finally {
      await w.stop();
      fs.rmSync(holder, { recursive: true, force: true });
    }
  });
});

describe("a large attempts ledger", () => {
  test("the page and /api/attempts give analyze's summary and a thinned duration chart", async () => {
    const proj = makeProject();
    // 5,000 attempts ten minutes apart (half a step off the window's edges), with garbage between.
    const now = Date.now();
    const statuses = ["kept", "kept", "regressed", "crashed", "discarded", "pending"];
    const lines = [
      "timestamp\tincident_id\tdetector\tsource\tbranch\tstatus\tduration_seconds\tdescription\n",
    ];
    for (let i = 0; i < 5000; i++) {
      const time = new Date(now - (5000 - i) * 600_000 - 300_000).toISOString();
      const detector = `detector_${(i * 7) % 11}`;
      const source = ["claude", "manual", "rule_a", "rule_b"][(i * 13) % 4];
      const status = statuses[(i * 31) % statuses.length];
      const seconds = ((i * 7919) % 900) + 0.5;
      lines.push(`${time}\tinc-${i}\t${detector}\t${source}\t\t${status}\t${seconds}\tfailure ${i}\n`);
      if (i % 500 === 0) lines.push("torn line\n", "\n");
    }
    fs.mkdirSync(path.join(proj, ".autosentry"), { recursive: true });
    fs.writeFileSync(path.join(proj, ".autosentry", "attempts.tsv"), lines.join(""));
    const w = await startWebProc(proj);
    try {
      for (const since of [null, "7d"]) {
        const api = (await (await fetch(`${w.url}api/attempts${since ? `?since=${since}` : ""}`)).json()) as {
          summary: unknown;
          recent: unknown[];
          charts: { duration: { x: number[]; series: Array<{ label: string; values: unknown[] }> } };
        };
        const cli = await run(["analyze", "--json", ...(since ? ["--since", since] : [])], { cwd: proj });
        expect(cli.code).toBe(0);
        expect(api.summary).toEqual(JSON.parse(cli.stdout));
        expect(api.recent).toHaveLength(200);
        const d = api.charts.duration;
        expect(d.x.length).toBeGreaterThan(0);
        expect(d.x.length).toBeLessThanOrEqual(2000);
        // All 5,000 are thinned to per-bucket points; the 1,007 of the last week are all shown.
        if (since) expect(d.x).toHaveLength(1007);
        expect(d.series.map((s) => s.label)).toEqual(since ? ["duration"] : ["fastest", "median", "slowest"]);
        for (const s of d.series) expect(s.values).toHaveLength(d.x.length);
      }
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${w.url}attempts`);
      await page.waitForSelector(".chart canvas");
      await page.locator(".chart").nth(1).locator("canvas").waitFor();
      expect(await page.locator(".chart").nth(1).textContent()).toContain("slowest");
      expect(await page.locator("#live").textContent()).toContain(
        "each shows its fastest and slowest attempt",
      );
      await shot(page, "attempts-large-ledger");
      expect(problems.consoleErrors).toEqual([]);
      expect(problems.offHost).toEqual([]);
    } finally {
      await w.stop();
    }
  });
});

describe("pipeline", () => {
  test("the stages of a real pipeline run, each with its status and exit", async () => {
    const fx = (n: string) => fs.readFileSync(path.join(FIXTURES, "pipeline", n), "utf8");
    const proj = makeProject(
      { "prep.sh": fx("prep.sh"), "train.sh": fx("train.sh"), "report.sh": fx("report.sh") },
      `process:
  restart_policy: { cooldown_seconds: 0.2 }
  stages:
    - { name: prep, command: [sh, prep.sh] }
    - name: train
      command: [sh, train.sh]
      env: { BATCH_SIZE: 64 }
    - { name: report, command: [sh, report.sh] }
detectors:
  - { name: oom, kind: pattern, regex: "CUDA out of memory" }
rules:
  - name: oom_halve_batch
    match: { detector: oom }
    action: { kind: restart_with_env, set: { BATCH_SIZE: half } }
`,
    );
    expect((await run(["run"], { cwd: proj })).code).toBe(0);
    const w = await startWebProc(proj);
    try {
      const { page, problems } = await watchedPage(browser);
      await page.goto(`${w.url}pipeline`);
      const rows = await page
        .locator("table tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.children[1]?.textContent,
            tr.children[2]?.textContent,
            tr.children[3]?.textContent,
          ]),
        );
      expect(rows).toEqual([
        ["prep", "complete", "0"],
        ["train", "complete", "0"],
        ["report", "complete", "0"],
      ]);
      expect(await page.locator("main").textContent()).toContain("complete");
      await shot(page, "pipeline-run");
      expect(problems.consoleErrors).toEqual([]);
    } finally {
      await w.stop();
    }
  });
});
