"""The storefront and dashboard in a real browser (Playwright driving Debian's headless Chromium).

Flows: search with suggestions and did-you-mean, facets, a product page with its rows, the cart, the
assistant, recommendations changing after clicks, and the dashboard login. Screenshots of every page go
to tests/artifacts/screenshots/ (ignored; SHOPMIND_SCREENSHOTS=docs/screenshots refreshes the README's).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind

pytestmark = pytest.mark.browser  # Chromium through Playwright against a uvicorn server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the tests write to an ignored folder, so `make test` leaves the tree clean; to refresh the README's pictures:
# SHOPMIND_SCREENSHOTS=docs/screenshots make test PYTEST_ARGS=tests/web
SHOTS = Path(os.environ.get("SHOPMIND_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "screenshots")
ADMIN = "admin-test-key"


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_data):
    """A demo shop (all products, the first 30k real events) built and served on loopback."""
    import socket

    import uvicorn

    from shopmind.api import create_app

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: `apt-get install chromium` (make test's sysdeps does this)")
    home = tmp_path_factory.mktemp("webshop")
    shop = ShopMind.open(home, api={"admin_keys": [ADMIN], "public_keys": ["browser-key"], "demo_shoppers": 50})  # /users is admin-only
    shop.import_file("products", demo_data / "products.jsonl")
    shop.import_file("users", demo_data / "users.csv")
    events = pq.read_table(demo_data / "events.parquet").sort_by("timestamp").slice(0, 30_000)
    pq.write_table(events, home / "events.parquet")
    shop.import_file("events", home / "events.parquet")
    shop.build()
    shop.ads_service.create_campaign({"advertiser": "test studio", "products": ["m222", "m227", "m228", "m229", "m230"], "bid": 0.6, "daily_budget": 50}, "trek")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(shop), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started and time.time() < deadline:
        time.sleep(0.1)
    yield {"url": f"http://127.0.0.1:{port}", "shop": shop}
    srv.should_exit = True
    thread.join(timeout=10)
    shop.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append("console: " + m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def until(predicate, timeout: float = 30.0) -> None:
    """Poll from Python: the pages' CSP forbids eval, which page.wait_for_function's polling needs."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the page"
        time.sleep(0.05)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def user_events(shop: ShopMind, user: str) -> list[dict]:
    return list(shop.store.scan_events(user_id=user).to_pylist())


def test_search_suggest_facets_and_did_you_mean(server, page):
    page.goto(server["url"] + "/")
    page.select_option("#user-select", "u1")
    page.fill("#q", "star")
    page.wait_for_selector("#suggestions li")
    assert "star" in page.inner_text("#suggestions").lower()
    page.press("#q", "Enter")
    page.wait_for_selector("#results .card")
    total = int(page.inner_text("#total"))
    assert total > 0 and "Star Wars" in page.inner_text("#results")
    shot(page, "search")
    page.locator(".facet[data-name=category] input").first.check()
    until(lambda: page.locator("#total").count() and int(page.inner_text("#total") or total) < total)
    assert "f=" in page.url
    page.goto(server["url"] + "/#/search?q=strar%20wars")
    page.wait_for_selector("#did-you-mean")
    page.click("#did-you-mean")
    page.wait_for_selector("#results .card")
    assert "Star Wars" in page.inner_text("#results")
    searches = [e for e in user_events(server["shop"], "u1") if e["type"] == "search"]
    assert searches and searches[-1]["query"]
    for _ in range(20):  # a query new to the ad auction is embedded in the background; then ads appear
        page.goto(server["url"] + "/#/")
        page.goto(server["url"] + "/#/search?q=star%20trek")
        page.wait_for_selector("#results .card")
        if page.locator(".ads .card.sponsored .badge").count():
            break
        time.sleep(0.5)
    assert page.locator(".ads .card.sponsored .badge").count()
    shot(page, "search-sponsored")
    page.locator(".ads .card-link").first.click()
    page.wait_for_selector("article.product h1")
    clicks = [e for e in user_events(server["shop"], "u1") if e["type"] == "click" and '"ad"' in e["context"]]
    assert clicks, "a click on a sponsored slot carries the ad token"
    report = server["shop"].ads_service.report()
    assert any(r["clicks"] >= 1 and r["spend"] > 0 for r in report)


def test_facet_counts_equal_the_totals_a_click_shows(server, page):
    """Issue 21: every facet value's count is the total that ticking it shows, in the browser, for queries with a
    small and a large match set; products that only resemble the query are shown apart, never in the total."""
    seen = 0
    for query in ("love", "star", "godfather"):
        base = f"{server['url']}/#/search?q={query}"
        page.goto(server["url"] + "/#/")
        page.goto(base)
        page.wait_for_selector("#total")
        boxes = page.locator(".facet[data-name=category] input")
        values = [(boxes.nth(i).get_attribute("value"), int(boxes.nth(i).locator("xpath=following-sibling::span").inner_text()))
                  for i in range(min(boxes.count(), 4))]
        assert values, f"no category facet for {query!r}"
        for value, count in values:
            page.goto(server["url"] + "/#/")
            page.goto(base)
            page.wait_for_selector("#total")
            with page.expect_response(lambda r: "/search?" in r.url and "filters=" in r.url):
                page.locator(f'.facet[data-name=category] input[value="{value}"]').check()
            page.wait_for_selector("#total")
            shown = int(page.inner_text("#total"))
            assert shown == count, f"{query!r}: facet {value} says {count}, ticking it shows {shown}"
            cards, ads = page.locator("#results .card").count(), page.locator(".ads .card").count()
            assert cards <= min(count, 20) <= cards + ads  # a sponsored match is shown once, in the ads row
            seen += 1
    assert seen >= 6
    page.goto(server["url"] + "/#/")
    page.goto(f"{server['url']}/#/search?q=godfather")  # a handful of matches; products that merely resemble it stand apart
    page.wait_for_selector("#total")
    total = int(page.inner_text("#total"))
    assert 1 <= total <= 10 and page.locator("#results .card").count() + page.locator(".ads .card").count() >= total
    assert all("Godfather" in t for t in page.locator("#results .card .title").all_inner_texts())
    page.goto(server["url"] + "/#/")
    page.goto(f"{server['url']}/#/search?q=qqqq")  # matches nothing: total 0, related products shown apart
    page.wait_for_selector("#total")
    assert int(page.inner_text("#total")) == 0
    assert page.locator("#related .card").count() > 0 and page.locator("#results .card").count() == 0
    shot(page, "search-related")


def test_product_page_cart_and_checkout(server, page):
    page.goto(server["url"] + "/")
    page.select_option("#user-select", "u10")
    page.goto(server["url"] + "/#/search?q=toy%20story")
    page.wait_for_selector("#results .card")
    page.locator("#results .card-link").first.click()
    page.wait_for_selector("article.product h1")
    page.wait_for_selector("#row-similar .card")
    shot(page, "product")
    page.click("#add-to-cart")
    until(lambda: page.inner_text("#cart-count") == "1")
    page.click(".cart-link")
    page.wait_for_selector(".cart-items li")
    shot(page, "cart")
    page.click("#checkout")
    page.wait_for_selector("#thanks")
    kinds = [e["type"] for e in user_events(server["shop"], "u10")]
    for kind in ("click", "view", "add_to_cart", "purchase"):
        assert kind in kinds, kinds


def test_recommendations_change_after_clicks(server, page):
    page.goto(server["url"] + "/")
    page.select_option("#user-select", "u100")
    page.wait_for_selector("#row-home .card")
    before = page.locator("#row-home .card-link").evaluate_all("els => els.map(e => e.dataset.item)")
    shot(page, "home")
    for query in ("star trek", "alien"):
        page.goto(server["url"] + "/#/search?q=" + query.replace(" ", "%20"))
        page.wait_for_selector("#results .card")
        page.locator("#results .card-link").nth(0).click()
        page.wait_for_selector("article.product h1")
    page.goto(server["url"] + "/#/")
    page.wait_for_selector("#row-home .card")
    after = page.locator("#row-home .card-link").evaluate_all("els => els.map(e => e.dataset.item)")
    assert after != before
    page.check("#why-toggle")
    assert page.locator("#row-home .why").first.is_visible()


def test_language_toggle(server, page):
    page.goto(server["url"] + "/")
    page.click("#lang")
    until(lambda: page.get_attribute("html", "lang") == "zh-CN")
    assert page.get_attribute("#q", "placeholder") == "搜索商品…"
    page.click("#lang")


def test_dashboard_login_and_charts(server, page):
    page.goto(server["url"] + "/")
    page.select_option("#user-select", "u1")
    page.goto(server["url"] + "/#/search?q=star%20wars")  # a search with impressions: the reports have something
    page.wait_for_selector("#results .card")
    page.goto(server["url"] + "/admin")
    page.fill("#key", "wrong-key")
    page.click("#login button[type=submit]")
    until(lambda: len(page.inner_text("#login-error")) > 0)
    page.fill("#key", ADMIN)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-loaded='1']", timeout=30_000)
    assert int(page.inner_text("#kpis .kpi b").replace(",", "")) == 1682
    for canvas in ("live", "funnel", "rfm", "coverage", "ads", "pacing"):
        assert page.locator(f"#{canvas}").is_visible()
    assert "recommend" in page.inner_text("#models") and "search" in page.inner_text("#models")
    assert page.inner_text("#ctr-note") == ""  # the storefront's impressions and clicks made it to the report
    assert page.inner_text("#ads-note").startswith("Cumulative spend")
    assert "browser-key" not in page.inner_text("#audit") and page.inner_text("#audit")  # the audit panel answers
    shop = server["shop"]
    assert not shop.state.flagged_users()  # a person clicking around is not a bot
    assert "star wars" in {q["query"] for q in shop.report("queries")["top"]}
    shot(page, "dashboard")


def test_dashboard_forecast_panel(server, page):
    """The demand-forecast panel draws category forecasts with intervals and the rising lists from the shop's events."""
    report = server["shop"].forecast_service.report(horizon=4)  # fit now, so the page's first request finds it ready
    assert report["categories"] and report["backtest"]
    page.goto(server["url"] + "/admin")
    page.fill("#key", ADMIN)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-loaded='1']", timeout=30_000)
    # the panel asks without waiting: if a later event made the fit stale it says "being fitted" and asks again in
    # 30 s, so allow one retry (seen in CI: the page's request found the forecast refitting)
    until(lambda: page.inner_text("#forecast-note").startswith("Demand from"), timeout=90)
    assert "backtest MAPE" in page.inner_text("#forecast-note")
    assert page.locator("#forecast-chart").is_visible()
    assert "Rising items" in page.inner_text("#forecast-rising") and "Rising categories" in page.inner_text("#forecast-rising")
    page.locator("#forecast-panel").scroll_into_view_if_needed()
    shot(page, "dashboard-forecast")


def test_assistant_panel(server, page):
    page.goto(server["url"] + "/")
    page.click("#chat-toggle")
    page.fill("#chat-input", "star trek movies")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#chat-log li.bot", timeout=60_000)
    reply = page.inner_text("#chat-log li.bot")
    assert "Star Trek" in reply and "error" not in page.get_attribute("#chat-log li.bot", "class")
    page.fill("#chat-input", "is the first one in stock?")
    page.press("#chat-input", "Enter")
    until(lambda: page.locator("#chat-log li.bot").count() == 2, timeout=60)
    shot(page, "assistant")
