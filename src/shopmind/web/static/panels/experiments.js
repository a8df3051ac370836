// A/B tests panel: each experiment (newest first, up to 5) with its variants' units, the sample-ratio check, and per
// metric each variant's effect against control with its fixed-horizon interval and always-valid (mSPRT) p and
// interval; simulated traffic is labelled. Uses admin.js's api/esc/$.
"use strict";
(() => {
  const fmt = (v, d = 4) => (typeof v === "number" && isFinite(v) ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(d)) : "—");
  const ci = (lo, hi) => `[${fmt(lo)}, ${fmt(hi)}]`;
  const pct = (v) => (typeof v === "number" ? `${(v * 100).toFixed(1)} %` : "—");

  function abTable(r) {
    const rows = [];
    for (const [metric, entry] of Object.entries(r.metrics || {})) {
      for (const [name, c] of Object.entries(entry.comparisons || {})) {
        const t = c.test, s = c.always_valid, sig = s.p_value !== null && s.p_value <= r.alpha;
        rows.push(`<tr><td>${esc(metric)}</td><td>${esc(name)}</td><td>${fmt(t.mean_a)}</td><td>${fmt(t.mean_b)}</td>` +
          `<td>${sig ? "<b>" : ""}${fmt(t.effect)}${sig ? "</b>" : ""} <span class="note">(${pct(t.rel_effect)})</span></td>` +
          `<td>${ci(t.ci_low, t.ci_high)}</td><td>${ci(s.ci_low, s.ci_high)}</td><td>${fmt(s.p_value, 3)}</td>` +
          `<td>${c.cuped ? pct(c.cuped.variance_reduction) : "—"}</td></tr>`);
      }
    }
    return `<table><tr><th>metric</th><th>variant</th><th>control</th><th>variant mean</th><th>effect</th><th>CI</th>` +
      `<th>always-valid CI</th><th>always-valid p</th><th>CUPED var. red.</th></tr>${rows.join("")}</table>`;
  }

  function block(e, r) {
    const sim = r.simulated ? ` <b class="warn">simulated traffic</b>` : "";
    const units = (r.variants || []).map((v) => `${esc(v.name)}${v.control ? " (control)" : ""}: ${v.units}`).join(" · ");
    let body;
    if (r.interleaving) {
      const il = r.interleaving, t = il.test, s = il.always_valid;
      body = `<p>Interleaving ${esc(il.other)} vs ${esc(il.control)}: ${il.impressions} impressions · ${esc(il.effect_label || "B-wins share − 0.5")} = ` +
        `<b>${fmt(t.effect)}</b> ${ci(t.ci_low, t.ci_high)}, p ${fmt(t.p_value, 3)} · always-valid p ${fmt(s.p_value, 3)} ${ci(s.ci_low, s.ci_high)}</p>`;
    } else {
      const srm = r.srm || {};
      const srmNote = srm.flag ? `<b class="warn">sample ratio mismatch (p ${fmt(srm.p_value, 3)})</b>` : `sample ratio ok (p ${fmt(srm.p_value, 3)})`;
      const guards = (r.guardrails || []).map((g) => `${esc(g.metric)} ≥ −${pct(g.max_drop)} for ${esc(g.variant)}: <b>${esc(g.verdict)}</b>`).join(" · ");
      body = `<p class="note">${srmNote}${guards ? " · guardrails: " + guards : ""}</p>${abTable(r)}`;
    }
    return `<h3>${esc(e.id)} <span class="note">${esc(e.surface)} · ${esc(e.kind)} · ${esc(e.status)}</span>${sim}</h3>` +
      `<p class="note">units — ${units}</p>${body}`;
  }

  async function experimentsPanel() {
    const el = $("#ab");
    let list;
    try { list = await api("/admin/experiments"); } catch (err) { el.textContent = `Experiments unavailable (${err.message}).`; return; }
    const shown = list.filter((e) => e.status !== "draft").slice(0, 5);
    if (!shown.length) { el.textContent = list.length ? "No experiment has started yet." : "No experiments have run yet."; return; }
    const parts = await Promise.all(shown.map(async (e) => {
      try { return block(e, await api(`/admin/experiments/${encodeURIComponent(e.id)}/report`)); } catch (err) { return `<p>${esc(e.id)}: ${esc(err.message)}</p>`; }
    }));
    el.classList.remove("note");
    el.innerHTML = parts.join("");
  }

  const wait = setInterval(() => {
    if (!$("#board") || $("#board").hidden) return;
    clearInterval(wait);
    experimentsPanel();
    setInterval(experimentsPanel, 30000);
  }, 500);
})();
