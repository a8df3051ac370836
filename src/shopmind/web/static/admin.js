// ShopMind dashboard: charts over the admin API (key kept in this tab's sessionStorage only).
"use strict";
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const charts = {};
let liveTimer;

async function api(path) {
  const r = await fetch(path, { headers: { "X-API-Key": sessionStorage.getItem("adminKey") || "" } });
  if (!r.ok) { const e = new Error(`${r.status} ${path}`); e.status = r.status; throw e; }
  return r.json();
}

function draw(id, type, labels, datasets, options = {}) {
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart($("#" + id), { type, data: { labels, datasets }, options: { animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } }, ...options } });
}

async function login(key) {
  sessionStorage.setItem("adminKey", key);
  try {
    await api("/admin/audit?limit=1");  // admin only: an analyst or storefront key is turned away here
  } catch (err) {
    sessionStorage.removeItem("adminKey");
    $("#login-error").textContent = err.status === 401 || err.status === 403 ? "That key is not an admin key." : err.message;
    return;
  }
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = "logged in";
  loadAll();
}

async function loadAll() {
  const jobs = [kpis(), live(), funnel(), queries(), ctr(), models(), rfm(), ads(), auditLog(), profile($("#profile-user").value)];
  await Promise.allSettled(jobs);
  document.body.dataset.loaded = "1";
  forecastPanel();  // slower (models are fitted on first use): not part of the board's loaded signal
  clearInterval(liveTimer);
  liveTimer = setInterval(() => { live(); kpis(); }, 5000);
}

async function kpis() {
  const s = await api("/stats");
  const items = [["Products", s.products], ["Users", s.users], ["Events", s.events], ...Object.entries(s.event_types || {})];
  $("#kpis").innerHTML = items.map(([k, v]) => `<div class="kpi"><span class="note">${esc(k)}</span><b>${Number(v).toLocaleString()}</b></div>`).join("");
}

async function live() {
  const d = await api("/admin/live?minutes=60");
  draw("live", "line", d.per_minute.map((p) => new Date(p.t * 1000).toISOString().slice(11, 16)), [{ label: "events", data: d.per_minute.map((p) => p.events), borderColor: "#2457d6", fill: true, backgroundColor: "rgba(36,87,214,.12)", tension: 0.25 }]);
}

async function funnel() {
  const rows = (await api("/reports/funnel")).slice(0, 8);
  draw("funnel", "bar", rows.map((r) => r.category), [
    { label: "viewers", data: rows.map((r) => r.viewers), backgroundColor: "#9db4f0" },
    { label: "carters", data: rows.map((r) => r.carters), backgroundColor: "#2457d6" },
    { label: "buyers", data: rows.map((r) => r.buyers), backgroundColor: "#0b7a3b" },
  ]);
}

async function queries() {
  const q = await api("/reports/queries");
  draw("queries", "bar", q.top.slice(0, 10).map((r) => r.query), [{ label: "searches", data: q.top.slice(0, 10).map((r) => r.count), backgroundColor: "#2457d6" }], { indexAxis: "y" });
  const zero = q.zero_result.slice(0, 8);
  $("#zero").innerHTML = zero.length ? `<h3 style="font-size:13px">Zero-result queries · 无结果搜索</h3><table><tr><th>query</th><th>count</th></tr>${zero.map((r) => `<tr><td>${esc(r.query)}</td><td>${r.count}</td></tr>`).join("")}</table>` : `<p class="note">No zero-result queries.</p>`;
}

async function ctr() {
  const rows = await api("/reports/placements");
  $("#ctr-note").textContent = rows.length ? "" : "No impressions with a placement yet: the storefront sends them as shoppers browse.";
  draw("ctr", "bar", rows.map((r) => r.placement), [{ label: "CTR", data: rows.map((r) => r.ctr ?? 0), backgroundColor: "#f5a623" }]);
}

async function models() {
  const m = await api("/admin/models");
  const parts = Object.entries(m);
  $("#models").innerHTML = parts.length ? `<table><tr><th>part</th><th>version</th><th>offline metrics</th></tr>${parts.map(([name, p]) => {
    const cur = p.versions.find((v) => v.version === p.current) || p.versions[0] || { meta: {} };
    const metrics = cur.meta.metrics || cur.meta.offline_metrics || {};
    const fmt = (v) => typeof v === "number" ? v.toFixed(4) : esc(String(v));
    const txt = Object.entries(metrics).slice(0, 10).map(([k, v]) => v && typeof v === "object"
      ? `<b>${esc(k)}</b> ` + Object.entries(v).filter(([, x]) => typeof x === "number").slice(0, 3).map(([m, x]) => `${esc(m)} ${fmt(x)}`).join(" · ")
      : `${esc(k)}: ${fmt(v)}`).join("<br>");
    return `<tr><td>${esc(name)}</td><td>${esc(p.current)}<br><span class="note">${p.versions.length} kept</span></td><td>${txt || "—"}</td></tr>`;
  }).join("")}</table>` : `<p class="note">Nothing built yet: run <code>shopmind build</code>.</p>`;
  const recs = m.recommend && (m.recommend.versions.find((v) => v.version === m.recommend.current) || {}).meta;
  const cov = Object.entries((recs && recs.metrics) || {}).filter(([, v]) => v && typeof v["coverage@10"] === "number");
  draw("coverage", "bar", cov.map(([k]) => k), [{ label: "coverage@10 (share of the catalog in someone's top 10)", data: cov.map(([, v]) => v["coverage@10"]), backgroundColor: "#0b7a3b" }]);
}

async function rfm() {
  const r = await api("/reports/rfm");
  const seg = Object.entries(r.segments || {});
  draw("rfm", "doughnut", seg.map(([k]) => k), [{ data: seg.map(([, v]) => v), backgroundColor: ["#2457d6", "#0b7a3b", "#f5a623", "#d64545", "#7b61ff", "#9aa5b8"] }], { plugins: { legend: { display: true, position: "right" } } });
}

async function ads() {
  try {
    const pace = await api("/ads/pacing");
    const totals = (await api("/ads/report")).filter((r) => r.day === "total");
    const ids = Object.keys(pace.daily_budgets);
    if (!ids.length) { $("#ads-note").textContent = "No campaigns yet."; return; }
    const spent = Object.fromEntries(totals.map((r) => [r.campaign_id, r.spend]));
    draw("ads", "bar", ids, [
      { label: "spend (all time)", data: ids.map((c) => spent[c] || 0), backgroundColor: "#2457d6" },
      { label: "daily budget", data: ids.map((c) => pace.daily_budgets[c]), backgroundColor: "#dfe4ec" },
    ]);
    $("#ads-note").textContent = `Cumulative spend by UTC hour on ${pace.day} (pacing spreads it over the day).`;
    const curves = Object.entries(pace.curves);
    const colors = ["#2457d6", "#0b7a3b", "#f5a623", "#d64545", "#7b61ff"];
    draw("pacing", "line", [...Array(24).keys()].map((h) => `${h}:00`), curves.map(([c, v], n) => ({ label: `${c} (budget ${pace.daily_budgets[c] ?? "?"})`, data: v, borderColor: colors[n % colors.length], tension: 0.2 })));
  } catch { $("#ads-note").textContent = "Ads are not enabled on this server."; }
}

let auditNext = null;
async function auditLog(before) {
  const page = await api("/admin/audit?limit=20" + (before ? "&before=" + encodeURIComponent(before) : ""));
  auditNext = page.next;
  const when = (ts) => new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 19);
  $("#audit").innerHTML = page.entries.length ? `<table><tr><th>time (UTC)</th><th>key</th><th>action</th><th>target</th><th>detail</th></tr>${page.entries.map((e) =>
    `<tr><td>${esc(when(e.ts))}</td><td><code>${esc(e.key_id)}</code></td><td>${esc(e.action)}</td><td>${esc(e.target)}</td><td class="note">${esc(JSON.stringify(e.detail))}</td></tr>`).join("")}</table>`
    : `<p class="note">No admin actions recorded yet.</p>`;
  $("#audit-older").hidden = !auditNext;
  $("#audit-newest").hidden = !before;
}

async function profile(user) {
  if (!user) return;
  const p = await api("/users/" + encodeURIComponent(user) + "/profile");
  const max = Math.max(1, ...p.heat.flat());
  const days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const heat = p.heat.map((row, d) => `<span style="font-size:10px">${days[d]}</span>` + row.map((n, h) => `<span title="${days[d]} ${h}:00 — ${n}" style="background:rgba(36,87,214,${(n / max).toFixed(2)})"></span>`).join("")).join("");
  const interests = p.interests.slice(0, 10);
  $("#profile").innerHTML = `<p><b>${esc(p.user_id)}</b>: ${esc(p.summary)}</p>
    <p class="note">segment <b>${esc(p.segment)}</b> (${esc(p.segment_why)}) · churn risk <b>${p.churn_risk.toFixed(2)}</b> (${esc(p.churn_why)}) · value ${p.lifetime_value} · ${esc(p.heat_why)}</p>
    <div style="display:grid;grid-template-columns:1fr 1fr;gap:16px"><div><canvas id="interests" height="180" role="img" aria-label="Interests"></canvas></div>
    <div><div class="heat" aria-label="Activity by weekday and hour">${heat}</div>
    <ol class="note">${p.recent.slice(0, 6).map((a) => `<li>${esc(a.type)} · ${esc(a.title || a.item_id)}</li>`).join("")}</ol></div></div>`;
  draw("interests", "bar", interests.map((i) => `${i.kind}: ${i.value}`), [{ label: "weight", data: interests.map((i) => i.weight), backgroundColor: "#7b61ff" }], { indexAxis: "y" });
}

$("#login").addEventListener("submit", (e) => { e.preventDefault(); login($("#key").value.trim()); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("adminKey"); location.reload(); });
$("#audit-older").addEventListener("click", () => { if (auditNext) auditLog(auditNext); });
$("#audit-newest").addEventListener("click", () => auditLog());
$("#profile-form").addEventListener("submit", (e) => { e.preventDefault(); profile($("#profile-user").value.trim()).catch((err) => { $("#profile").textContent = err.message; }); });
if (sessionStorage.getItem("adminKey")) login(sessionStorage.getItem("adminKey"));

// -- demand forecast: category forecasts with intervals, rising items/categories/queries, stock-out alerts --
async function forecastPanel() {
  let r;
  try {
    r = await api("/forecast/report?horizon=4");
    if (r.status === "computing") { $("#forecast-note").textContent = "Forecasts are being fitted; they appear here in a minute."; setTimeout(forecastPanel, 30000); return; }
  } catch (err) {
    $("#forecast-note").textContent = err.status === 422 ? "Not enough sales or events to forecast yet." : "Forecasts are not available on this server.";
    return;
  }
  const colors = ["#2457d6", "#0b7a3b", "#f5a623", "#d64545", "#7b61ff"];
  const cats = (r.categories || []).slice(0, 5);
  const labels = cats.length ? cats[0].periods : [];
  const sets = [];
  cats.forEach((c, n) => {
    const col = colors[n % colors.length];
    sets.push({ label: c.key, data: c.forecast, borderColor: col, tension: 0.2 });
    sets.push({ label: `${c.key} ${r.interval}% low`, data: c.lo, borderColor: col, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
    sets.push({ label: `${c.key} ${r.interval}% high`, data: c.hi, borderColor: col, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
  });
  draw("forecast-chart", "line", labels, sets, { plugins: { legend: { display: true, labels: { filter: (i) => !/% (low|high)$/.test(i.text) } } } });
  const bt = r.backtest || {};
  $("#forecast-note").textContent = `Demand from ${r.source}; model ${r.model}; last-horizon backtest MAPE ${bt.mape ?? "?"} %, WAPE ${bt.wape ?? "?"} %. Dashed: ${r.interval}% conformal interval.`;
  const list = (rows) => rows.length ? rows.map((x) => `<li>${esc(x.key)}: ${esc(x.history)} → ${esc(x.forecast)} (+${esc(x.growth)} %)</li>`).join("") : "<li class=\"note\">none</li>";
  $("#forecast-rising").innerHTML = ["item", "category", "query"].map((lv) => `<h3>Rising ${{ item: "items", category: "categories", query: "queries" }[lv]}</h3><ul>${list((r.rising || {})[lv] || [])}</ul>`).join("");
  const alerts = r.stockouts || [];
  $("#forecast-stockouts").innerHTML = "<h3>Stock-out alerts</h3>" + (alerts.length ? "<ul>" + alerts.map((a) =>
    `<li><b>${esc(a.title || a.id)}</b>: stock ${esc(a.stock)}, ${esc(a.risk)} to run out in ${esc(a.runs_out_in)} period(s); substitutes ${esc((a.substitutes || []).join(", ") || "none")}</li>`).join("") + "</ul>" : "<p class=\"note\">No item is forecast to run out.</p>");
}
