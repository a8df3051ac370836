"""`POST /chat` and `/chat/stream` through FastAPI's TestClient; the `shopmind assistant` CLI; generation."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shopmind.api import create_app
from shopmind.assistant.generate import generator_for


def test_post_chat(shop):
    with TestClient(create_app(shop)) as client:
        assert "chat" in client.app.state.capabilities
        r = client.post("/chat", json={"session_id": "api-1", "message": "toys for kids"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["intent"] == "find" and body["products"] and body["sentences"][1]["source"]["kind"] == "catalog"
        r2 = client.post("/chat", json={"session_id": "api-1", "message": "cheaper"}).json()
        assert r2["intent"] == "refine" and r2["session"]["turns"] == 2
        assert client.post("/chat", json={"session_id": "api-1", "message": ""}).status_code == 422
        lines = [json.loads(x) for x in client.post("/chat/stream", json={"session_id": "api-2", "message": "可以退货吗"}).text.splitlines()]
        assert "delta" in lines[0] and lines[-1]["response"]["intent"] == "faq"
        assert client.delete("/chat/api-1").status_code == 204


def test_cli_chat_and_descriptions(shop, tmp_path):
    from shopmind.cli.assistant import assistant_app

    runner = CliRunner()
    res = runner.invoke(assistant_app, ["chat", "toys for kids", "--home", str(shop.home), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output.strip().splitlines()[-1])["intent"] == "find"
    out = tmp_path / "desc.jsonl"
    res = runner.invoke(assistant_app, ["generate-descriptions", "--home", str(shop.home), "--id", "pqa-B005AR75A6", "--id", "mp0000", "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["product_id"] for r in rows] == ["pqa-B005AR75A6", "mp0000"] or {r["product_id"] for r in rows} == {"pqa-B005AR75A6", "mp0000"}
    assert all(s["source"]["kind"] == "catalog" for r in rows for s in r["sentences"])


def test_generation_templates_are_grounded(assistant, products):
    gen = generator_for(assistant)
    toy = next(p for p in products if p.id.startswith("toy-"))
    d = gen.description(toy)
    assert toy.title in d.text and f"{toy.price:.2f}" in d.text and d.llm.backend == "none"
    ad = gen.ad_copy(toy)
    assert f"{toy.price:.2f}" in ad.text
    q = assistant.rewrite_query("hi, I'm looking for red running shoes under 300 yuan please")
    assert q.text == "red running shoes"
