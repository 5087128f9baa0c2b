// autosentry web: the only script of the viewer (served from the binary as /assets/app.js; the
// Content-Security-Policy allows no inline script). It keeps the page live through server-sent
// events, draws the attempts charts with uPlot, and submits filter menus on change.

(() => {
  const body = document.body;
  const topics = (body.dataset.topics || "").split(" ").filter(Boolean);
  const project = body.dataset.project || "";
  const status = document.getElementById("live-status");

  function setStatus(text, cls) {
    if (!status) return;
    status.textContent = text;
    status.className = `live ${cls}`;
  }

  // Re-render the live part of the page from the server (same URL), at most once per 700 ms.
  let pending = false;
  let last = 0;
  async function refresh() {
    if (pending) return;
    pending = true;
    const wait = Math.max(0, 700 - (Date.now() - last));
    setTimeout(async () => {
      try {
        const res = await fetch(location.href, { headers: { "X-Autosentry-Fragment": "live" } });
        if (res.ok) {
          const html = await res.text();
          const doc = new DOMParser().parseFromString(html, "text/html");
          const fresh = doc.getElementById("live");
          const cur = document.getElementById("live");
          if (fresh && cur) {
            cur.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
            drawCharts();
            body.dataset.refreshed = String(Number(body.dataset.refreshed || "0") + 1);
          }
        }
      } catch {
        // the next event tries again
      } finally {
        last = Date.now();
        pending = false;
      }
    }, wait);
  }

  if (topics.length && typeof EventSource !== "undefined") {
    const url = project ? `/api/stream?project=${encodeURIComponent(project)}` : "/api/stream";
    const es = new EventSource(url);
    es.onopen = () => setStatus("live", "on");
    es.onerror = () => setStatus("reconnecting…", "off");
    for (const t of topics) es.addEventListener(t, () => refresh());
  }

  // Filter menus submit their form when changed.
  for (const el of document.querySelectorAll("form.filters select")) {
    el.addEventListener("change", () => el.form?.submit());
  }

  // Charts: <div class="chart" data-src="…json" data-kind="…">.
  const drawn = new WeakSet();
  const COLORS = {
    kept: "#2e7d32",
    regressed: "#c62828",
    crashed: "#ef6c00",
    discarded: "#6d4c41",
    pending: "#1565c0",
    duration: "#6a1b9a",
    // The thinned duration chart (src/web/attempts-data.ts): per time bucket.
    fastest: "#2e7d32",
    median: "#6a1b9a",
    slowest: "#c62828",
  };
  async function drawCharts() {
    if (typeof uPlot === "undefined") return;
    for (const el of document.querySelectorAll(".chart[data-src]")) {
      if (drawn.has(el)) continue;
      drawn.add(el);
      try {
        const res = await fetch(el.dataset.src);
        const data = await res.json();
        const chart = data.charts?.[el.dataset.kind];
        if (!chart?.x.length) {
          el.textContent = "No data yet.";
          continue;
        }
        const series = [{}];
        const columns = [chart.x];
        for (const s of chart.series) {
          series.push({
            label: s.label,
            stroke: COLORS[s.label] || "#333",
            width: 2,
            // Points always: a day with attempts must show even when it is the only one.
            points: { show: true, size: chart.points === true ? 5 : 7 },
            paths: chart.points === true ? () => null : undefined,
          });
          columns.push(s.values);
        }
        const width = Math.max(300, Math.min(el.clientWidth || 800, 1100));
        // One x value: uPlot would spread a range of years around it; show a day either side.
        const x0 = chart.x[0];
        const lastX = chart.x[chart.x.length - 1];
        const scales = x0 === lastX ? { x: { time: true, range: [x0 - 86400, x0 + 86400] } } : {};
        new uPlot(
          { title: chart.title, width, height: 240, series, scales, axes: [{}, { label: chart.y }] },
          columns,
          el,
        );
      } catch {
        el.textContent = "Chart data could not be loaded.";
      }
    }
  }
  drawCharts();
})();
