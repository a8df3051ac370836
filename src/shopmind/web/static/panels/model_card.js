// Model card panel: the promoted recommend version's card — data window, each candidate's validation score (or why it
// was skipped), what each placement serves and why (winner's margin), config hash. Uses admin.js's api/esc/$.
"use strict";
(() => {
  const fmt = (v, d = 4) => (typeof v === "number" ? v.toFixed(d) : "—");
  const when = (ts) => (typeof ts === "number" ? new Date(ts * 1000).toISOString().slice(0, 10) : "—");
  const weights = (s) => Object.entries(s || {}).map(([k, w]) => `${esc(k)} ${fmt(w, 2)}`).join(" + ");

  async function cardPanel() {
    const el = $("#model-card");
    let m;
    try { m = await api("/admin/models?part=recommend&history=0"); } catch (err) { el.innerHTML = `<p class="note">Models unavailable (${esc(err.message)}).</p>`; return; }
    const p = m.recommend;
    const v = p && (p.versions.find((x) => x.version === p.current) || p.versions[0]);
    const card = v && v.meta && v.meta.card;
    if (!card) { el.innerHTML = `<p class="note">No model card yet: run <code>shopmind build</code>.</p>`; return; }
    const d = card.data || {};
    const cands = Object.entries(card.candidates || {});
    const places = Object.entries(card.placements || {});
    el.innerHTML =
      `<p class="note">Version <b>${esc(v.version)}</b> · events ${when(d.first_event_ts)} → ${when(d.last_event_ts)} · ${d.events ?? "—"} events, ` +
      `${d.users ?? "—"} users, ${d.items ?? "—"} items · validation: ${esc((card.split || {}).protocol || "—")}, ` +
      `${(card.split || {}).validation_users ?? "—"} users · config ${esc(card.config_hash || "—")} · selection ${fmt(card.selection_s, 1)} s</p>` +
      (places.length ? `<table><tr><th>placement</th><th>serves</th><th>val NDCG@10</th><th>why</th></tr>${places.map(([name, c]) =>
        `<tr><td>${esc(name)}</td><td>${c.mode === "chosen" ? `<b>${esc(c.chosen)}</b><br><span class="note">${weights(c.sources)}</span>` : `<span class="note">configured: ${weights(c.sources)}</span>`}</td>` +
        `<td>${fmt(c["val_ndcg@10"])}</td><td class="note">${esc(c.why || "")}</td></tr>`).join("")}</table>` : "") +
      (cands.length ? `<table><tr><th>candidate</th><th>val NDCG@10 (history)</th><th>train s</th><th>params or why skipped</th></tr>${cands.map(([name, c]) =>
        `<tr><td>${esc(name)}</td><td>${fmt(c["val_ndcg@10"])}</td><td>${fmt(c.train_s, 1)}</td><td class="note">${esc(c.skipped || JSON.stringify(c.params || {}))}</td></tr>`).join("")}</table>` : "");
  }

  const wait = setInterval(() => {
    if (!$("#board") || $("#board").hidden) return;
    clearInterval(wait);
    cardPanel();
    setInterval(cardPanel, 60000);
  }, 500);
})();
