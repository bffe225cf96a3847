// Floorplan operations dashboard. Plain JS, no build step: it polls /v1/admin with the admin key that the
// operator typed in, kept in this tab's sessionStorage and sent as a Bearer token (no cookies).
"use strict";

(() => {
  const KEY = "floorplan.adminKey";
  const POLL_MS = 1000;
  const BAR_OK = "#3b82f6";
  const BAR_FAILED = "#dc2626";
  const SVG_NS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  let timer = null;
  let busy = false;
  let again = false;
  let skewMs = 0; // server clock minus ours, from the Date header
  let listLimit = 50;
  let tenantsLoadedAt = 0;
  let lastOk = null;
  let historyLoadedAt = 0;
  let historyWindow = null;
  const HISTORY_MS = 5000;

  class AuthError extends Error {}

  // -- DOM helpers: text always goes in as text, never as HTML ---------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.className = value;
      else if (name === "data") Object.assign(el.dataset, value);
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function s(tag, attrs) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
    return el;
  }

  const badge = (state) => h("span", { class: `badge ${state}`, data: { state } }, state);

  // -- formatting -----------------------------------------------------------------------------------------

  function duration(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
    if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }
  const now = () => Date.now() + skewMs;
  const since = (iso) => (now() - Date.parse(iso)) / 1000;
  const between = (a, b) => (Date.parse(b) - Date.parse(a)) / 1000;
  const clock = (iso, ms) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit",
    second: "2-digit", hour12: false, ...(ms ? { fractionalSecondDigits: 3 } : {}) });
  const ago = (iso) => (since(iso) < 1 ? "just now" : `${duration(since(iso))} ago`);
  const num = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString());

  // -- talking to the API ---------------------------------------------------------------------------------

  async function api(path) {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}`, Accept: "application/json" },
      cache: "no-store",
    });
    const date = Date.parse(response.headers.get("date") || "");
    if (!Number.isNaN(date)) skewMs = date - Date.now();
    if (response.status === 401 || response.status === 403) {
      const problem = await response.json().catch(() => ({}));
      throw new AuthError(problem.detail || "this key cannot open the dashboard");
    }
    if (!response.ok) throw new Error(`${response.status} from ${path}`);
    return response.json();
  }

  function setLive(state, text) {
    $("live").dataset.state = state;
    $("live-text").textContent = text;
  }

  // -- views ----------------------------------------------------------------------------------------------

  function route() {
    const signedIn = Boolean(sessionStorage.getItem(KEY));
    $("signout").hidden = !signedIn;
    $("signin-view").hidden = signedIn;
    const job = jobInHash();
    $("overview-view").hidden = !signedIn || Boolean(job);
    $("job-view").hidden = !signedIn || !job;
    if (!signedIn) {
      setLive("idle", "Not signed in");
      $("key").focus();
      return;
    }
    if (!job) syncFilters();
    schedule(0);
  }

  function jobInHash() {
    const match = location.hash.match(/^#\/jobs\/([A-Za-z0-9_]+)$/);
    return match ? match[1] : null;
  }

  function filters() {
    const query = location.hash.startsWith("#/?") ? location.hash.slice(3) : "";
    const params = new URLSearchParams(query);
    return { state: params.get("state") || "", tenant: params.get("tenant") || "", queue: params.get("queue") || "" };
  }

  function syncFilters() {
    const f = filters();
    $("f-state").value = f.state;
    ensureOption($("f-tenant"), f.tenant);
    $("f-tenant").value = f.tenant;
    ensureOption($("f-queue"), f.queue);
    $("f-queue").value = f.queue;
  }

  function ensureOption(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) select.append(h("option", { value }, value));
  }

  function setOptions(select, values) {
    const current = select.value;
    const wanted = ["", ...values];
    const have = [...select.options].map((o) => o.value);
    if (have.length === wanted.length && have.every((v, i) => v === wanted[i])) return;
    select.replaceChildren(h("option", { value: "" }, "All"), ...values.map((v) => h("option", { value: v }, v)));
    ensureOption(select, current);
    select.value = current;
  }

  function schedule(ms) {
    clearTimeout(timer);
    if (busy) {
      again = true;
      return;
    }
    timer = setTimeout(tick, ms);
  }

  async function tick() {
    busy = true;
    again = false;
    try {
      const job = jobInHash();
      if (job) await refreshJob(job);
      else await refreshOverview();
      lastOk = new Date().toISOString();
      setLive("ok", `Live · updated ${clock(lastOk)}`);
    } catch (error) {
      if (error instanceof AuthError) {
        signOut(error.message);
        return;
      }
      setLive("error", lastOk ? `Reconnecting… last update ${clock(lastOk)}` : "Cannot reach the API");
    } finally {
      busy = false;
    }
    if (sessionStorage.getItem(KEY)) schedule(again ? 0 : POLL_MS);
  }

  // -- overview: queues, jobs, workers ----------------------------------------------------------------------

  async function refreshOverview() {
    const f = filters();
    const params = new URLSearchParams({ limit: String(listLimit) });
    for (const [k, v] of Object.entries(f)) if (v) params.set(k, v);
    const wantTenants = Date.now() - tenantsLoadedAt > 30000;
    const windowName = $("h-window").value;
    const wantHistory = Date.now() - historyLoadedAt > HISTORY_MS || historyWindow !== windowName;
    const [overview, renders, tenants, history] = await Promise.all([
      api("/v1/admin/overview"),
      api(`/v1/admin/renders?${params}`),
      wantTenants ? api("/v1/admin/tenants") : Promise.resolve(null),
      wantHistory ? api(`/v1/admin/history?window=${windowName}`) : Promise.resolve(null),
    ]);
    if (jobInHash()) return; // the operator moved on while we were fetching
    if (tenants) {
      tenantsLoadedAt = Date.now();
      setOptions($("f-tenant"), tenants.items.map((t) => t.name));
    }
    setOptions($("f-queue"), overview.queues.map((q) => q.name));
    renderQueues(overview);
    if (history) {
      historyLoadedAt = Date.now();
      historyWindow = history.window;
      renderHistory(history);
    }
    renderTenants(overview);
    renderWorkers(overview);
    renderJobs(renders);
  }

  function renderQueues(overview) {
    const total = overview.queues.reduce((n, q) => n + q.queued, 0);
    $("overview-note").textContent = `${num(total)} queued · ${overview.workers.length} active worker` +
      (overview.workers.length === 1 ? "" : "s");
    $("queues").replaceChildren(...overview.queues.map(queueCard));
  }

  function queueCard(q) {
    const done = q.succeeded_per_minute.reduce((a, b) => a + b, 0);
    const failed = q.failed_per_minute.reduce((a, b) => a + b, 0);
    const stat = (label, value, field) => h("div", null, h("div", { class: "stat-label" }, label),
      h("div", { class: "stat-value", data: { field } }, value));
    return h("section", { class: "card queue-card", data: { queue: q.name } },
      h("div", { class: "queue-name" }, h("h2", null, q.name),
        h("span", { class: "sub" }, q.active_workers ? `${q.slots} render slot${q.slots === 1 ? "" : "s"}` : "no workers")),
      h("div", null, h("div", { class: "depth", data: { field: "depth" } }, num(q.queued)),
        h("div", { class: "depth-label" }, "queued")),
      h("div", { class: "stats" },
        stat("Running", num(q.running), "running"),
        stat("Oldest waiting", q.oldest_age_seconds === null ? "—" : duration(q.oldest_age_seconds), "oldest"),
        stat("Active workers", num(q.active_workers), "workers"),
        stat("Dead letters", q.dead_letter === null ? "—" : num(q.dead_letter), "dead")),
      h("div", { class: "chart" },
        h("div", { class: "chart-head" },
          h("span", null, "Finished per minute, last hour",
            h("span", { class: "legend" }, h("span", { class: "swatch ok" }), "succeeded"),
            h("span", { class: "legend" }, h("span", { class: "swatch bad" }), "failed")),
          h("span", { data: { field: "throughput" } }, `${num(done)} done · ${num(failed)} failed`)),
        h("div", { class: "chart-plot" }, throughputChart(q.succeeded_per_minute, q.failed_per_minute),
          done + failed ? null : h("div", { class: "chart-empty" }, "No renders finished in the last hour")),
        h("div", { class: "axis" }, h("span", null, "60 min ago"), h("span", null, "30 min"), h("span", null, "now"))));
  }

  function throughputChart(ok, bad) {
    const width = 600;
    const height = 64;
    const slot = width / ok.length;
    const peak = Math.max(1, ...ok.map((v, i) => v + bad[i]));
    const chart = s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `renders finished per minute, peak ${peak}` });
    chart.append(s("line", { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, stroke: "#e3e8ef" }));
    const start = now() - (ok.length - 1) * 60000;
    ok.forEach((value, i) => {
      const failed = bad[i];
      if (!value && !failed) return;
      const x = i * slot + 1;
      const okHeight = (value / peak) * (height - 4);
      const badHeight = (failed / peak) * (height - 4);
      const group = s("g");
      const title = s("title");
      title.textContent = `${clock(new Date(start + i * 60000).toISOString())}: ${value} succeeded, ${failed} failed`;
      group.append(title);
      if (value) group.append(s("rect", { x, y: height - okHeight, width: slot - 2, height: okHeight, rx: 1.5,
        fill: BAR_OK }));
      if (failed) group.append(s("rect", { x, y: height - okHeight - badHeight, width: slot - 2, height: badHeight,
        rx: 1.5, fill: BAR_FAILED }));
      chart.append(group);
    });
    return chart;
  }

  // -- history: each queue's depth, wait, failures and workers over the last hour or day ---------------------

  const HISTORY_SERIES = [
    { field: "queued", label: "Queued (most)", value: (b) => b.queued, total: (bs) => `peak ${num(Math.max(0, ...bs.map((b) => b.queued)))}` },
    { field: "wait", label: "Wait at the front (longest)", value: (b) => b.oldest_wait_seconds,
      total: (bs) => `peak ${duration(Math.max(0, ...bs.map((b) => b.oldest_wait_seconds)))}` },
    { field: "failed", label: "Failed", value: (b) => b.failed, color: BAR_FAILED,
      total: (bs) => `${num(bs.reduce((n, b) => n + b.failed, 0))} of ${num(bs.reduce((n, b) => n + b.finished, 0))} finished` },
    { field: "workers", label: "Workers", value: (b) => b.max_workers,
      total: (bs) => (bs.length ? `${num(Math.min(...bs.map((b) => b.workers)))}–${num(Math.max(...bs.map((b) => b.max_workers)))}` : "—") },
  ];

  function renderHistory(history) {
    const spanMs = history.window === "day" ? 86400000 : 3600000;
    const rows = history.queues.map((q) => h("div", { class: "history-queue", data: { queue: q.queue } },
      h("h3", null, q.queue),
      h("div", { class: "history-series" }, ...HISTORY_SERIES.map((series) => h("div", { class: "spark",
        data: { field: series.field } },
      h("div", { class: "chart-head" }, h("span", null, series.label),
        h("span", { data: { field: `${series.field}-total` } }, series.total(q.buckets))),
      sparkline(q.buckets, series, spanMs, history.bucket_seconds))))));
    $("history").replaceChildren(...rows);
    $("history-empty").hidden = history.queues.some((q) => q.buckets.length);
  }

  function sparkline(buckets, series, spanMs, bucketSeconds) {
    const width = 300;
    const height = 40;
    const end = now();
    const peak = Math.max(1e-9, ...buckets.map(series.value));
    const chart = s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img",
      "aria-label": `${series.label}: ${series.total(buckets)}` });
    chart.append(s("line", { x1: 0, x2: width, y1: height - 0.5, y2: height - 0.5, stroke: "#e3e8ef" }));
    const slot = Math.max(1, (bucketSeconds * 1000 / spanMs) * width);
    for (const b of buckets) {
      const value = series.value(b);
      const x = ((Date.parse(b.at) - (end - spanMs)) / spanMs) * width;
      if (x + slot < 0 || !value) continue;
      const barHeight = Math.max(1, (value / peak) * (height - 4));
      const bar = s("rect", { x: Math.max(0, x), y: height - barHeight, width: Math.max(1, slot - 1), height: barHeight,
        fill: series.color || BAR_OK });
      const title = s("title");
      title.textContent = `${clock(b.at)}: ${series.field === "wait" ? duration(value) : num(value)}`;
      bar.append(title);
      chart.append(bar);
    }
    return chart;
  }

  function renderTenants(overview) {
    const rows = overview.tenants.map((t) => h("tr", { data: { tenant: t.tenant, queue: t.queue } },
      h("td", null, t.tenant),
      h("td", null, t.queue),
      h("td", { class: "num" }, t.max_running ? `${t.weight} (cap ${t.max_running})` : String(t.weight)),
      h("td", { class: "num", data: { field: "queued" } }, num(t.queued)),
      h("td", { class: "num", data: { field: "running" } }, num(t.running)),
      h("td", { class: "num", data: { field: "share" } }, `${Math.round(t.share * 100)} %`)));
    $("tenants").tBodies[0].replaceChildren(...rows);
    $("tenants-empty").hidden = rows.length > 0;
    $("tenants-note").textContent = `scheduler: ${overview.scheduler}`;
  }

  function renderWorkers(overview) {
    const rows = overview.workers.map((w) => h("tr", null,
      h("td", { class: "mono", title: `started ${clock(w.started_at)}` }, w.id),
      h("td", null, w.queues.join(", ")),
      h("td", { class: "num" }, `${w.busy} / ${w.concurrency}`),
      h("td", null, ago(w.seen_at))));
    $("workers").tBodies[0].replaceChildren(...rows);
    $("workers-empty").hidden = rows.length > 0;
    const slots = overview.workers.reduce((n, w) => n + w.concurrency, 0);
    $("workers-note").textContent = rows.length ? `${slots} render slot${slots === 1 ? "" : "s"}` : "";
  }

  function renderJobs(page) {
    const rows = page.items.map((job) => {
      const open = () => { location.hash = `#/jobs/${job.id}`; };
      const ahead = job.queue ? job.queue.ahead : null;
      let took = "";
      if (job.finished_at && job.started_at) took = duration(between(job.started_at, job.finished_at));
      else if (job.state === "running" && job.started_at) took = `${duration(since(job.started_at))} so far`;
      else if (job.state === "queued") took = `waiting ${duration(since(job.created_at))}`;
      return h("tr", { class: "link", data: { jobId: job.id, state: job.state }, onclick: open },
        h("td", null, h("a", { href: `#/jobs/${job.id}`, class: "mono" }, job.id),
          h("div", { class: "sub" }, `${job.view} · ${job.format} · ${job.width}×${job.height}`)),
        h("td", null, job.tenant),
        h("td", null, job.queue_name),
        h("td", null, badge(job.state)),
        h("td", { class: "num", data: { field: "ahead" } }, ahead === null ? "—" : `${num(ahead)} ahead`),
        h("td", { class: "num" }, job.queue ? (job.queue.eta_seconds === null ? "unknown" : duration(job.queue.eta_seconds)) : "—"),
        h("td", { class: "num" }, job.attempts),
        h("td", { title: job.created_at }, clock(job.created_at)),
        h("td", { class: "num" }, took));
    });
    $("jobs").tBodies[0].replaceChildren(...rows);
    $("jobs-empty").hidden = rows.length > 0;
    $("more").hidden = !page.next_cursor || listLimit >= 200;
  }

  // -- one job: facts, result, history ---------------------------------------------------------------------

  async function refreshJob(id) {
    const job = await api(`/v1/admin/renders/${encodeURIComponent(id)}`);
    if (jobInHash() !== id) return;
    $("job-id").textContent = job.id;
    $("job-state").className = `badge ${job.state}`;
    $("job-state").textContent = job.state;
    $("job-state").dataset.state = job.state;

    const facts = [
      ["Tenant", job.tenant],
      ["Plan", `${job.plan_id} (version ${job.plan_version})`],
      ["Output", `${job.view.toUpperCase()} ${job.format.toUpperCase()}, ${job.width}×${job.height}`],
      ["Queue", job.queue_name],
    ];
    if (job.queue) {
      facts.push(["Position", `${num(job.queue.ahead)} ahead`, "ahead", true]);
      facts.push(["ETA", job.queue.eta_seconds === null ? "unknown: no worker serves the queue yet" : duration(job.queue.eta_seconds), "eta"]);
    }
    facts.push(["Attempts", String(job.attempts)]);
    if (job.worker) facts.push(["Worker", job.worker]);
    facts.push(["Submitted", `${clock(job.created_at)} (${ago(job.created_at)})`]);
    if (job.started_at) facts.push(["Started", clock(job.started_at)]);
    if (job.finished_at) {
      facts.push(["Finished", clock(job.finished_at)]);
      if (job.started_at) facts.push(["Render time", duration(between(job.started_at, job.finished_at))]);
    }
    if (job.result) facts.push(["Result", `${job.result.content_type}, ${num(job.result.bytes)} bytes`]);
    if (job.error) facts.push(["Error", `${job.error.code}: ${job.error.message}`]);
    $("job-facts").replaceChildren(...facts.flatMap(([label, value, field, big]) => [
      h("dt", null, label), h("dd", { class: big ? "big" : null, data: field ? { field } : null }, value)]));

    renderResult(job);
    const events = job.events.map((e) => h("tr", null,
      h("td", { title: e.at }, clock(e.at, true)),
      h("td", null, badge(e.state)),
      h("td", { class: "num" }, e.attempt),
      h("td", { class: "mono" }, e.worker || "—"),
      h("td", { class: "wrap" }, e.message || "")));
    $("job-events").tBodies[0].replaceChildren(...events);
  }

  function renderResult(job) {
    const box = $("job-result");
    if (job.result) {
      if (box.dataset.jobId === job.id) return; // already shown: signed URLs change on every read
      box.dataset.jobId = job.id;
      const type = job.result.content_type;
      const name = `${job.id}.${job.format}`;
      if (type.startsWith("image/")) {
        box.replaceChildren(h("a", { href: job.result.url, target: "_blank", rel: "noopener", title: `Open ${name}` },
          h("img", { src: job.result.url, alt: `Result of ${job.id}`, id: "result-image" })));
      } else {
        box.replaceChildren(h("div", { class: "placeholder" }, `${type}, ${num(job.result.bytes)} bytes`, h("br"),
          h("a", { href: job.result.url, target: "_blank", rel: "noopener" }, `Download ${name}`)));
      }
      return;
    }
    delete box.dataset.jobId;
    const text = {
      queued: "Waiting in the queue…",
      running: "Rendering…",
      failed: "No result: the render failed.",
      canceled: "No result: the render was canceled.",
    }[job.state] || "No result.";
    box.replaceChildren(h("div", { class: "placeholder" }, text));
  }

  // -- sign in and out --------------------------------------------------------------------------------------

  async function signIn(event) {
    event.preventDefault();
    const key = $("key").value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY, key);
    $("signin-error").textContent = "";
    try {
      await api("/v1/admin/overview");
    } catch (error) {
      sessionStorage.removeItem(KEY);
      $("signin-error").textContent = error instanceof AuthError ? error.message : "The API did not answer; try again.";
      return;
    }
    $("key").value = "";
    tenantsLoadedAt = 0;
    route();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    clearTimeout(timer);
    lastOk = null;
    $("signin-error").textContent = typeof message === "string" ? message : "";
    route();
  }

  function onFilter() {
    const params = new URLSearchParams();
    for (const name of ["state", "tenant", "queue"]) {
      const value = $(`f-${name}`).value;
      if (value) params.set(name, value);
    }
    listLimit = 50;
    const query = params.toString();
    location.hash = query ? `#/?${query}` : "#/";
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin").addEventListener("submit", signIn);
    $("signout").addEventListener("click", () => signOut(""));
    $("filters").addEventListener("change", onFilter);
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("history-form").addEventListener("change", () => schedule(0));
    $("history-form").addEventListener("submit", (e) => e.preventDefault());
    $("more").addEventListener("click", () => { listLimit = Math.min(200, listLimit + 50); schedule(0); });
    window.addEventListener("hashchange", route);
    route();
  });
})();
