// Simulated traffic panel: how many events are labelled simulated (context.simulated = "1", from `shopmind simulate`
// and the demo's seeding) against the real ones, and from which runs; says plainly that the funnel, query and CTR
// charts include them. Uses admin.js's api/esc/$.
"use strict";
(() => {
  async function simulatedPanel() {
    const el = $("#simulated");
    let t;
    try { t = await api("/reports/traffic"); } catch (err) { el.innerHTML = `<p class="note">Traffic report unavailable (${esc(err.message)}).</p>`; return; }
    if (!t.simulated) { el.innerHTML = `<p class="note">All ${Number(t.events).toLocaleString()} events are real: no simulated traffic.</p>`; return; }
    const runs = Object.entries(t.runs || {});
    el.innerHTML = `<p><b style="color:#d64545">Simulated traffic</b>: ${Number(t.simulated).toLocaleString()} of ${Number(t.events).toLocaleString()} events ` +
      `(${(100 * t.simulated_share).toFixed(1)} %) come from simulated shoppers, labelled <code>context.simulated = "1"</code>; ` +
      `${Number(t.real).toLocaleString()} are real. The funnel, query and CTR-by-placement charts include them.</p>` +
      `<table><tr><th>simulation run</th><th>events</th></tr>${runs.map(([r, n]) => `<tr><td>${esc(r)}</td><td>${n}</td></tr>`).join("")}</table>`;
  }

  const wait = setInterval(() => {
    if (!$("#board") || $("#board").hidden) return;
    clearInterval(wait);
    simulatedPanel();
    setInterval(simulatedPanel, 60000);
  }, 500);
})();
