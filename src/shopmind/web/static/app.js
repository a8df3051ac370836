// ShopMind storefront: plain JS over the public API. Every click sends a real event, so the shop learns.
"use strict";
const CFG = window.SHOPMIND_CONFIG || { capabilities: [] };
const has = (cap) => CFG.capabilities.includes(cap);
const $ = (sel, root = document) => root.querySelector(sel);
const main = $("#main");
const store = {
  get user() { return localStorage.getItem("user") || ""; },
  set user(v) { localStorage.setItem("user", v); },
  get session() {
    let s = sessionStorage.getItem("session");
    if (!s) { s = "web-" + Math.random().toString(36).slice(2, 10); sessionStorage.setItem("session", s); }
    return s;
  },
  get cart() { return JSON.parse(localStorage.getItem("cart") || "[]"); },
  set cart(v) { localStorage.setItem("cart", JSON.stringify(v)); $("#cart-count").textContent = v.length; },
};
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

async function api(path, opts = {}) {
  const headers = { "content-type": "application/json", ...(opts.headers || {}) };
  if (CFG.publicKey) headers["X-API-Key"] = CFG.publicKey;
  const r = await fetch(path, { ...opts, headers });
  if (!r.ok) {
    const err = new Error(`${r.status} ${path}`);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

function track(type, item_id, context = {}) {
  if (!store.user) return Promise.resolve();
  const body = { type, user_id: store.user, session_id: store.session, item_id, context: { device: "web", ...context } };
  return api("/events", { method: "POST", body: JSON.stringify(body) }).catch(() => {});
}

const productCache = new Map();
async function products(ids) {
  const missing = ids.filter((id) => !productCache.has(id));
  if (missing.length) {
    const { products } = await api("/products?ids=" + encodeURIComponent(missing.join(",")));
    products.forEach((p) => productCache.set(p.id, p));
  }
  return ids.map((id) => productCache.get(id)).filter(Boolean);
}

function price(p) {
  return p.price == null ? "" : `<span class="price">${esc(p.currency === "CNY" ? "¥" : p.currency && p.currency !== "USD" ? p.currency + " " : "$")}${Number(p.price).toFixed(2)}</span>`;
}

function card(p, { why = "", placement = "", position = 0, sponsored = false, token = "" } = {}) {
  const cat = Array.isArray(p.category) ? p.category.join(" › ") : p.category || "";
  return `<li class="card${sponsored ? " sponsored" : ""}">
    <a href="#/p/${encodeURIComponent(p.id)}" class="card-link" data-item="${esc(p.id)}" data-placement="${esc(placement)}" data-position="${position}" data-ad="${esc(token)}">
      ${sponsored ? `<span class="badge">${t("sponsored")}</span>` : ""}
      <span class="title">${esc(p.title)}</span>
      <span class="meta">${esc(p.brand || "")} ${esc(cat)}</span>
      ${price(p)}
    </a>
    ${why ? `<p class="why">${esc(why)}</p>` : ""}
  </li>`;
}

document.addEventListener("click", (e) => {
  const link = e.target.closest(".card-link");
  if (link) {
    const ctx = { placement: link.dataset.placement || undefined, position: Number(link.dataset.position) || 0 };
    if (link.dataset.ad) ctx.ad = link.dataset.ad;  // the ad's token: charges the click exactly once
    track("click", link.dataset.item, ctx);
  }
});

async function recRow(title, params, id) {
  if (!has("recommend")) return "";
  const q = new URLSearchParams({ k: 8, ...params });
  if (store.user) q.set("user_id", store.user);
  try {
    const res = await api("/recommend?" + q);
    const items = res.items || [];
    if (!items.length) return "";
    const ps = await products(items.map((i) => i.id));
    const byId = new Map(ps.map((p) => [p.id, p]));
    const cards = items.filter((i) => byId.has(i.id)).map((i, n) => card(byId.get(i.id), { why: i.reason, placement: params.placement, position: n }));
    impressions(items.map((i) => i.id), params.placement);
    return `<section class="row" id="${id}"><h2>${esc(title)}</h2><ul class="cards">${cards.join("")}</ul></section>`;
  } catch (err) {
    return err.status === 503 ? `<p class="note">${t("notBuilt")}</p>` : "";
  }
}

function impressions(ids, placement) {
  if (!store.user || !ids.length) return;
  const events = ids.map((id, n) => ({ type: "impression", user_id: store.user, session_id: store.session, item_id: id, context: { placement, position: n, device: "web" } }));
  api("/events/batch", { method: "POST", body: JSON.stringify(events) }).catch(() => {});
}

async function sponsored(params) {
  if (!has("ads")) return [];
  try {
    const q = new URLSearchParams({ k: 2, ...params });
    if (store.user) q.set("user_id", store.user);
    const res = await api("/ads?" + q);
    return res.ads || [];
  } catch { return []; }
}

// ---------------------------------------------------------------- views
async function viewHome() {
  const mine = renderToken;  // a slower earlier view must not paint over this one
  if (mine !== renderToken) return;
  main.innerHTML = `<p class="note">${t("loading")}</p>`;
  const rows = await Promise.all([
    recRow(t("forYou"), { placement: "home" }, "row-home"),
    recRow(t("newArrivals"), { placement: "new" }, "row-new"),
  ]);
  let trending = "";
  try {
    const tr = await api("/trending?k=8");
    const ps = await products(tr.items.map((i) => i.item_id));
    if (ps.length) trending = `<section class="row"><h2>${t("trending")}</h2><ul class="cards">${ps.map((p, n) => card(p, { placement: "trending", position: n })).join("")}</ul></section>`;
  } catch {}
  if (mine !== renderToken) return;
  main.innerHTML = rows.join("") + trending || `<p class="note">${t("noResults")}</p>`;
}

function searchState() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  return { q: params.get("q") || "", filters: JSON.parse(params.get("f") || "{}"), sort: params.get("sort") || "relevance", page: Number(params.get("page") || 1) };
}

function searchHash(s) {
  const p = new URLSearchParams({ q: s.q });
  if (Object.keys(s.filters).length) p.set("f", JSON.stringify(s.filters));
  if (s.sort !== "relevance") p.set("sort", s.sort);
  if (s.page > 1) p.set("page", s.page);
  return "#/search?" + p;
}

async function viewSearch() {
  const mine = renderToken;  // a slower earlier view must not paint over this one
  const s = searchState();
  $("#q").value = s.q;
  if (mine !== renderToken) return;
  main.innerHTML = `<p class="note">${t("loading")}</p>`;
  const q = new URLSearchParams({ q: s.q, sort: s.sort, page: s.page, per_page: 20 });
  ["category", "brand", "price"].forEach((f) => q.append("facets", f));
  if (Object.keys(s.filters).length) q.set("filters", JSON.stringify(s.filters));
  if (store.user) { q.set("user_id", store.user); q.set("session_id", store.session); }
  // ads never hold up organic results: they get a short time budget and are asked for in parallel
  const adsPromise = Promise.race([sponsored({ placement: "search", q: s.q }), new Promise((ok) => setTimeout(() => ok([]), 400))]);
  let res;
  try { res = await api("/search?" + q); } catch (err) {
    if (mine !== renderToken) return;
  main.innerHTML = `<p class="note">${err.status === 503 ? t("notBuilt") : esc(err.message)}</p>`;
    return;
  }
  const ads = await adsPromise;
  const adCards = [];
  const adProducts = await products(ads.map((ad) => ad.item_id));
  for (const [n, ad] of ads.entries()) {
    const p = adProducts.find((x) => x.id === ad.item_id);
    if (p) adCards.push(card(p, { why: ad.reason, placement: "search_ads", position: n, sponsored: true, token: ad.token }));
  }
  if (store.user && ads.length) {
    const events = ads.map((ad, n) => ({ type: "impression", user_id: store.user, session_id: store.session, item_id: ad.item_id, context: { placement: "search_ads", position: n, ad: ad.token, device: "web" } }));
    api("/events/batch", { method: "POST", body: JSON.stringify(events) }).catch(() => {});
  }
  const u = res.query || {};
  const dym = u.did_you_mean ? `<p class="dym">${t("didYouMean")} <a href="${searchHash({ ...s, q: u.did_you_mean, page: 1 })}" id="did-you-mean">${esc(u.did_you_mean)}</a>?</p>` : "";
  const understood = [u.price ? `${t("price")} ${u.price.min ?? ""}–${u.price.max ?? ""}` : "", ...(u.brands || []), u.category ? `${t("category")}: ${u.category}` : "",
    ...(u.interpretations || [])].filter(Boolean);
  const sponsoredIds = new Set(ads.map((ad) => ad.item_id));  // a sponsored product is not shown twice
  const organic = res.hits.filter((h) => !sponsoredIds.has(h.id));
  // matches first; products that merely resemble the query are shown apart, under their own heading, never counted in the total
  const cardOf = (h, n) => card(h, { why: whyText(h.why), placement: "search", position: (s.page - 1) * 20 + n });
  const matched = organic.filter((h) => !h.why?.related), related = organic.filter((h) => h.why?.related);
  const hits = matched.map(cardOf), relatedCards = related.map((h, n) => cardOf(h, matched.length + n));
  const recovery = ((res.query || {}).recovery_steps || []).filter((x) => x !== "related");
  impressions(organic.map((h) => h.id), "search");
  const pages = Math.ceil(res.total / res.per_page);
  if (mine !== renderToken) return;
  main.innerHTML = `
    <div class="search-layout">
      <aside class="facets" aria-label="${t("filters")}">${facetsHtml(res.facets || [], s)}</aside>
      <section>
        <div class="toolbar">
          <p><strong id="total">${res.total}</strong> ${t("results")} “${esc(s.q)}” <span class="took">${res.took_ms?.toFixed?.(1) ?? ""} ms</span></p>
          <label>${t("sort")} <select id="sort">
            ${[["relevance", "relevance"], ["price_asc", "priceAsc"], ["price_desc", "priceDesc"], ["newest", "newest"], ["popularity", "popularity"]]
              .map(([v, k]) => `<option value="${v}"${v === s.sort ? " selected" : ""}>${t(k)}</option>`).join("")}
          </select></label>
        </div>
        ${dym}
        ${understood.length ? `<p class="understood">${understood.map((x) => `<span class="chip">${esc(x)}</span>`).join("")}</p>` : ""}
        ${adCards.length ? `<ul class="cards ads">${adCards.join("")}</ul>` : ""}
        ${recovery.length ? `<p class="recovery" id="recovery">${t("recovery")} ${recovery.map((x) => `<span class="chip">${esc(x)}</span>`).join("")}</p>` : ""}
        <ul class="cards results" id="results">${hits.join("") || (relatedCards.length ? "" : `<li class="note">${t("noResults")}</li>`)}</ul>
        ${relatedCards.length ? `<p class="note" id="related-note">${t("relatedNote")}</p><ul class="cards results related" id="related">${relatedCards.join("")}</ul>` : ""}
        <nav class="pager" aria-label="${t("page")}">
          ${s.page > 1 ? `<a href="${searchHash({ ...s, page: s.page - 1 })}">${t("prev")}</a>` : ""}
          <span>${t("page")} ${s.page} / ${Math.max(pages, 1)}</span>
          ${s.page < pages ? `<a href="${searchHash({ ...s, page: s.page + 1 })}" id="next-page">${t("next")}</a>` : ""}
        </nav>
      </section>
    </div>`;
  $("#sort").addEventListener("change", (e) => { location.hash = searchHash({ ...s, sort: e.target.value, page: 1 }); });
  main.querySelectorAll(".facet input[type=checkbox]").forEach((box) => box.addEventListener("change", () => {
    const f = { ...s.filters };
    const vals = new Set(f[box.dataset.facet] || []);
    box.checked ? vals.add(box.value) : vals.delete(box.value);
    if (vals.size) f[box.dataset.facet] = [...vals]; else delete f[box.dataset.facet];
    location.hash = searchHash({ ...s, filters: f, page: 1 });
  }));
  const priceForm = $("#price-form");
  if (priceForm) priceForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = { ...s.filters };
    const min = priceForm.min.value, max = priceForm.max.value;
    if (min === "" && max === "") delete f.price; else f.price = { ...(min !== "" && { min: Number(min) }), ...(max !== "" && { max: Number(max) }) };
    location.hash = searchHash({ ...s, filters: f, page: 1 });
  });
  const slider = $("#price-slider");
  if (slider) slider.addEventListener("input", () => { priceForm.max.value = slider.value; });
}

function whyText(why) {
  if (!why) return "";
  const parts = [];
  if (why.matched_terms?.length) parts.push("matched: " + why.matched_terms.join(", "));
  if (why.dense_similarity != null) parts.push("similarity " + Number(why.dense_similarity).toFixed(2));
  if (why.boosts && Object.keys(why.boosts).length) parts.push("boosts: " + Object.entries(why.boosts).map(([k, v]) => `${k} ${Number(v).toFixed(2)}`).join(", "));
  if (why.rules?.length) parts.push("rules: " + why.rules.join(", "));
  if (why.ranker != null) parts.push("ranker " + Number(why.ranker).toFixed(2));
  return parts.join(" · ") || (typeof why === "string" ? why : JSON.stringify(why));
}

function facetsHtml(facets, s) {
  return facets.map((f) => {
    if (f.name === "price") {
      const cur = s.filters.price || {};
      const maxVal = Math.ceil(Math.max(...(f.ranges || []).map((b) => b.max || b.min || 0), 1));
      return `<fieldset class="facet"><legend>${t("price")}</legend>
        <form id="price-form">
          <label>${t("min")} <input name="min" type="number" min="0" step="any" value="${cur.min ?? ""}"></label>
          <label>${t("max")} <input name="max" type="number" min="0" step="any" value="${cur.max ?? ""}"></label>
          <input id="price-slider" type="range" min="0" max="${maxVal}" value="${cur.max ?? maxVal}" aria-label="${t("max")} ${t("price")}">
          <button type="submit">${t("apply")}</button>
        </form></fieldset>`;
    }
    const selected = new Set(s.filters[f.name] || []);
    const values = (f.values || []).slice(0, 12);
    if (!values.length) return "";
    return `<fieldset class="facet" data-name="${esc(f.name)}"><legend>${esc(f.label || t(f.name) || f.name)}</legend>
      ${values.map((v) => `<label><input type="checkbox" data-facet="${esc(f.name)}" value="${esc(v.value)}"${selected.has(v.value) ? " checked" : ""}> ${esc(v.value)} <span class="count">${v.count}</span></label>`).join("")}
    </fieldset>`;
  }).join("");
}

async function viewProduct(id) {
  const mine = renderToken;  // a slower earlier view must not paint over this one
  if (mine !== renderToken) return;
  main.innerHTML = `<p class="note">${t("loading")}</p>`;
  let p;
  try { p = await api("/products/" + encodeURIComponent(id)); } catch { if (mine !== renderToken) return;
  main.innerHTML = `<p class="note">${t("noResults")}</p>`; return; }
  productCache.set(p.id, p);
  await track("view", p.id, { page: "product" });
  const attrs = Object.entries(p.attributes || {}).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(Array.isArray(v) ? v.join(", ") : v)}</dd>`).join("");
  const rows = await Promise.all([
    recRow(t("similar"), { placement: "product", item_id: p.id }, "row-similar"),
    recRow(t("fbt"), { placement: "cart", cart: p.id }, "row-fbt"),
  ]);
  if (mine !== renderToken) return;
  main.innerHTML = `<article class="product">
      <h1>${esc(p.title)}</h1>
      <p class="meta">${esc(p.brand || "")} ${esc((p.category || []).join(" › "))}</p>
      ${price(p)} <span class="stock">${p.in_stock === false ? t("outOfStock") : t("inStock")}</span>
      ${p.description ? `<p>${esc(p.description)}</p>` : ""}
      ${attrs ? `<h2>${t("attributes")}</h2><dl>${attrs}</dl>` : ""}
      <button id="add-to-cart" type="button">${t("addToCart")}</button>
    </article>${rows.join("")}`;
  $("#add-to-cart").addEventListener("click", async (e) => {
    store.cart = [...new Set([...store.cart, p.id])];
    e.target.textContent = t("added");
    await track("add_to_cart", p.id, { page: "product" });
  });
}

async function viewCart() {
  const mine = renderToken;  // a slower earlier view must not paint over this one
  const ids = store.cart;
  const ps = ids.length ? await products(ids) : [];
  const recs = ids.length ? await recRow(t("cartRecs"), { placement: "cart", cart: ids.join(",") }, "row-cart") : "";
  if (mine !== renderToken) return;
  main.innerHTML = `<h1>${t("cart")}</h1>
    ${ps.length ? `<ul class="cart-items">${ps.map((p) => `<li>${esc(p.title)} ${price(p)} <button type="button" class="remove" data-id="${esc(p.id)}">${t("remove")}</button></li>`).join("")}</ul>
      <button id="checkout" type="button">${t("checkout")}</button>` : `<p class="note">${t("emptyCart")}</p>`}
    ${recs}`;
  main.querySelectorAll(".remove").forEach((b) => b.addEventListener("click", async () => {
    store.cart = store.cart.filter((x) => x !== b.dataset.id);
    await track("remove_from_cart", b.dataset.id, { page: "cart" });
    viewCart();
  }));
  const checkout = $("#checkout");
  if (checkout) checkout.addEventListener("click", async () => {
    const events = ps.map((p) => ({ type: "purchase", user_id: store.user, session_id: store.session, item_id: p.id, price: p.price ?? undefined, context: { page: "cart", device: "web" } }));
    if (store.user && events.length) await api("/events/batch", { method: "POST", body: JSON.stringify(events) }).catch(() => {});
    store.cart = [];
    if (mine !== renderToken) return;
  main.innerHTML = `<p class="note" id="thanks">${t("bought")}</p>`;
  });
}

let renderToken = 0;
function route() {
  renderToken += 1;
  const hash = location.hash || "#/";
  const [path] = hash.slice(1).split("?");
  if (path.startsWith("/search")) return viewSearch();
  if (path.startsWith("/p/")) return viewProduct(decodeURIComponent(path.slice(3)));
  if (path.startsWith("/cart")) return viewCart();
  return viewHome();
}

// ---------------------------------------------------------------- header: search box, suggestions, users, language, why
function setupSearchBox() {
  const input = $("#q"), list = $("#suggestions");
  let timer, active = -1;
  const close = () => { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q || !has("search")) return close();
    timer = setTimeout(async () => {
      try {
        const { suggestions } = await api("/suggest?k=8&q=" + encodeURIComponent(q));
        list.innerHTML = suggestions.map((s, n) => `<li role="option" id="sugg-${n}" tabindex="-1">${esc(s)}</li>`).join("");
        list.hidden = !suggestions.length;
        input.setAttribute("aria-expanded", String(!list.hidden));
      } catch { close(); }
    }, 80);
  });
  input.addEventListener("keydown", (e) => {
    const items = [...list.querySelectorAll("li")];
    if (list.hidden || !items.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach((li, n) => li.setAttribute("aria-selected", String(n === active)));
      input.value = items[active].textContent;
    } else if (e.key === "Escape") close();
  });
  list.addEventListener("mousedown", (e) => {
    const li = e.target.closest("li");
    if (li) { input.value = li.textContent; close(); go(); }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  const go = () => { if (input.value.trim()) location.hash = searchHash({ q: input.value.trim(), filters: {}, sort: "relevance", page: 1 }); };
  $("#search-form").addEventListener("submit", (e) => { e.preventDefault(); close(); go(); });
}

async function setupUsers() {
  const sel = $("#user-select");
  let users = [];
  users = CFG.demoShoppers || [];  // a demo's sample shoppers; a real shop knows its logged-in shopper
  if (!store.user && users.length) store.user = users[0];
  const opts = [`<option value="">${t("anonymous")}</option>`, ...users.map((u) => `<option${u === store.user ? " selected" : ""}>${esc(u)}</option>`)];
  if (store.user && !users.includes(store.user)) opts.push(`<option selected>${esc(store.user)}</option>`);
  sel.innerHTML = opts.join("");
  sel.addEventListener("change", () => { store.user = sel.value; route(); });
}

function applyI18n() {
  const lang = localStorage.getItem("lang") || "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $("#lang").textContent = t("lang");
}

function setupChat() {
  if (!has("chat")) return;
  const box = $("#chat"), panel = $("#chat-panel"), toggle = $("#chat-toggle"), log = $("#chat-log");
  box.hidden = false;
  toggle.addEventListener("click", () => { panel.hidden = !panel.hidden; toggle.setAttribute("aria-expanded", String(!panel.hidden)); if (!panel.hidden) $("#chat-input").focus(); });
  $("#chat-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("#chat-input"), message = input.value.trim();
    if (!message) return;
    input.value = "";
    log.insertAdjacentHTML("beforeend", `<li class="me">${esc(message)}</li>`);
    try {
      const res = await api("/chat", { method: "POST", body: JSON.stringify({ session_id: store.session, message, user_id: store.user || null }) });
      const cards = (res.products || []).slice(0, 4).map((p, n) => card(p, { placement: "chat", position: n })).join("");
      log.insertAdjacentHTML("beforeend", `<li class="bot">${esc(res.text || res.answer || "")}${cards ? `<ul class="cards mini">${cards}</ul>` : ""}</li>`);
    } catch (err) { log.insertAdjacentHTML("beforeend", `<li class="bot error">${esc(err.message)}</li>`); }
    log.scrollTop = log.scrollHeight;
  });
}

$("#why-toggle").checked = localStorage.getItem("why") === "1";
document.body.classList.toggle("show-why", $("#why-toggle").checked);
$("#why-toggle").addEventListener("change", (e) => { localStorage.setItem("why", e.target.checked ? "1" : "0"); document.body.classList.toggle("show-why", e.target.checked); });
$("#lang").addEventListener("click", () => { localStorage.setItem("lang", (localStorage.getItem("lang") || "en") === "en" ? "zh" : "en"); applyI18n(); route(); });
window.addEventListener("hashchange", () => { route(); main.focus({ preventScroll: true }); });
store.cart = store.cart;
applyI18n();
setupSearchBox();
setupChat();
setupUsers().then(route);
