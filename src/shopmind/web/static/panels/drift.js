// Drift and continuous training panel: hourly event volume (24 h), CTR by placement, served top-1 scores vs the promoted
// version's reference (PSI), and the promotion gate's decisions. Uses admin.js's api/draw/esc/$ once the board shows.
"use strict";
(() => {
  const fmt = (v, d = 3) => (typeof v === "number" ? v.toFixed(d) : "—");
  const when = (ts) => new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 16);
  const colors = ["#2457d6", "#0b7a3b", "#f5a623", "#d64545", "#7b61ff", "#9aa5b8"];

  async function driftPanel() {
    let d;
    try { d = await api("/admin/models/drift"); } catch (err) { $("#drift-note").textContent = `Drift figures unavailable (${err.message}).`; return; }
    const start = d.hours_from;
    const hours = [...Array(24).keys()].map((h) => new Date((start + h * 3600) * 1000).toISOString().slice(11, 16));
    const types = Object.entries(d.volume || {});
    draw("drift-volume", "line", hours, types.map(([t, v], n) => ({ label: t, data: v, borderColor: colors[n % colors.length], tension: 0.2 })));
    const ctr = Object.entries(d.ctr || {});
    const scores = Object.entries(d.scores || {});
    const shifted = (p) => (typeof p === "number" && p >= 0.25 ? ' <b style="color:#d64545">shifted</b>' : "");
    $("#drift-tables").innerHTML =
      (ctr.length ? `<table><tr><th>placement</th><th>shown</th><th>clicks</th><th>CTR (24 h)</th></tr>${ctr.map(([k, r]) =>
        `<tr><td>${esc(k)}</td><td>${r.impressions ?? r.searches}</td><td>${r.clicks}</td><td>${fmt(r.ctr)}</td></tr>`).join("")}</table>` : `<p class="note">No impressions or searches in the last 24 h.</p>`) +
      (scores.length ? `<table><tr><th>part</th><th>version</th><th>top-1 score p50: reference → today (n)</th><th>PSI</th></tr>${scores.map(([k, s]) =>
        `<tr><td>${esc(k)}</td><td>${esc(s.version)}</td><td>${fmt(s.reference.p50)} → ${fmt(s.today.p50)} (${s.reference.n} / ${s.today.n})</td><td>${fmt(s.psi)}${shifted(s.psi)}</td></tr>`).join("")}</table>` : "");
    $("#drift-note").textContent = `${d.events_scanned} newest events scanned at ${when(d.ts)} UTC; scores are this worker's served responses today (UTC).`;
    try { await trainingStatus(); } catch (err) { $("#training").textContent = `Training status unavailable (${err.message}).`; }
  }

  async function trainingStatus() {
    const [t, m] = await Promise.all([api("/admin/models/training"), api("/admin/models?history=20")]);
    const gate = Object.values(m).flatMap((p) => p.history).filter((h) => h.who === "trainer" || h.action === "held").sort((a, b) => b.ts - a.ts).slice(0, 8);
    const how = [t.schedule && `every ${t.schedule}`, t.after_events && `after ${t.after_events} new events`].filter(Boolean).join(" or ") || "no trigger set";
    $("#training").innerHTML = `<p class="note">Continuous training is <b>${t.enabled ? "on" : "off"}</b> (${esc(how)}; parts ${esc(t.parts.join(", "))})` +
      `${t.due ? ` · due now: ${esc(t.due)}` : ""}.</p>` + (gate.length ? `<table><tr><th>time (UTC)</th><th>part</th><th>gate</th><th>version</th><th>why</th></tr>${gate.map((h) =>
        `<tr><td>${esc(when(h.ts))}</td><td>${esc(h.part)}</td><td>${h.action === "held" ? '<b style="color:#d64545">held</b>' : esc(h.action)}</td><td>${esc(h.to_version)}</td><td class="note">${esc(h.reason)}</td></tr>`).join("")}</table>`
        : `<p class="note">No gated builds yet.</p>`);
  }

  const wait = setInterval(() => {
    if (!$("#board") || $("#board").hidden) return;
    clearInterval(wait);
    driftPanel();
    setInterval(driftPanel, 60000);
  }, 500);
})();
