"""The fact check: unsupported numbers, sizes, colours and brands are dropped; failures fall back to `none`."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from shopmind.assistant import Assistant
from shopmind.assistant.config import AssistantConfig
from shopmind.assistant.factcheck import FactChecker, split_sentences
from shopmind.assistant.llm import BACKENDS, LLMError, open_llm, scheme_of
from shopmind.assistant.tools import ShopTools


class ScriptedLLM:
    """A stand-in model that always says `reply` (to drive the checker with known good and bad sentences)."""

    name = "scripted"
    url = "scripted"
    enabled = True

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls = 0

    @classmethod
    def from_url(cls, url: str) -> ScriptedLLM:
        return cls("")

    def complete(self, messages, *, max_tokens, timeout):
        self.calls += 1
        return self.reply, 50

    def stream(self, messages, *, max_tokens, timeout) -> Iterator[str]:
        for i in range(0, len(self.reply), 7):
            yield self.reply[i : i + 7]


def test_checker_finds_unsupported_claims():
    c = FactChecker(["Whirlpool", "Bosch", "格兰仕"])
    evidence = "Whirlpool W10130695 Latch Assembly for Dishwasher, White | price 12.50 USD"
    assert c.unsupported("The Whirlpool latch is white and costs 12.50 USD.", evidence) == []
    kinds = {x.kind: x.value for x in c.unsupported("The Bosch latch is black, size XL, and costs 15 USD.", evidence)}
    assert kinds == {"brand": "bosch", "colour": "black", "size": "XL", "number": "15"}
    assert [x.kind for x in c.unsupported("这款格兰仕是红色的。", "Whirlpool")] == ["colour", "brand"]
    assert split_sentences("One. Two! 三。四") == ["One.", "Two!", "三。", "四"]


# These tests check the fact check, not the turn budget: a cold first turn on a loaded CI machine can pass 800 ms
# and then (rightly) skip the LLM, so they give understanding and tools a minute.
UNHURRIED = AssistantConfig(turn_budget_ms=60_000)


def _latch(products):
    return next(p for p in products if p.id == "pqa-B005AR75A6")


def test_llm_sentence_with_invented_facts_is_dropped(shop, products):
    llm = ScriptedLLM("Sure! The latch is white. It also comes in red for 19.99 dollars from Bosch. Hope that helps!")
    bot = Assistant(ShopTools(shop), UNHURRIED, llm=llm)
    r = bot.chat("fc-1", "what colour is it?", product_id=_latch(products).id)
    assert llm.calls == 1 and r.llm.backend == "scripted"
    assert "white" in r.text and "red" not in r.text and "19.99" not in r.text
    assert any("Bosch" in d for d in r.llm.dropped)
    white = next(s for s in r.sentences if "white" in s.text)
    assert white.source.field == "attributes.color"  # attributed to the grounded sentence it restates


def test_streaming_releases_only_checked_sentences(shop, products):
    llm = ScriptedLLM("The latch is white. It weighs 3 pounds.")
    bot = Assistant(ShopTools(shop), UNHURRIED, llm=llm)
    *chunks, final = list(bot.chat_stream("fc-2", "what colour is it?", product_id=_latch(products).id))
    assert "3 pounds" not in "".join(chunks) and "white" in "".join(chunks)
    assert final.llm.dropped == ["It weighs 3 pounds."]


def test_everything_dropped_falls_back_to_templates(shop, products):
    bot = Assistant(ShopTools(shop), UNHURRIED, llm=ScriptedLLM("It is blue and costs 5 dollars."))
    r = bot.chat("fc-3", "what colour is it?", product_id=_latch(products).id)
    assert r.llm.backend == "none" and "fact check" in r.llm.fallback
    assert r.sentences[0].source.field == "attributes.color"


def test_token_budget_per_session(shop, products):
    llm = ScriptedLLM("The latch is white.")
    bot = Assistant(ShopTools(shop), UNHURRIED, llm=llm)
    bot.config.session_token_budget = bot.config.max_tokens + 10
    bot.chat("fc-4", "what colour is it?", product_id=_latch(products).id)
    r = bot.chat("fc-4", "what colour is it?")
    assert llm.calls == 1 and r.llm.fallback == "session token budget spent"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_falls_back_to_none(shop, products):
    bot = shop.new_assistant(llm=f"openai://127.0.0.1:{_closed_port()}/v1", timeout_s=2)
    r = bot.chat("down-1", "what colour is it?", product_id=_latch(products).id)
    assert r.llm.backend == "none" and r.llm.fallback.startswith("LLM error")
    assert "white" in r.text


def test_backends_by_url():
    assert scheme_of("openai://h:1/v1") == "openai" and scheme_of("llama-cpp:/m.gguf") == "llama-cpp" and scheme_of("none") == "none"
    assert set(BACKENDS) >= {"none", "llama-cpp", "openai"}
    assert open_llm("none").name == "none"
    with pytest.raises(ValueError, match="unknown LLM backend"):
        open_llm("gpt4all:x")


def test_llama_cpp_missing_gives_install_hint(monkeypatch):
    import builtins

    real = builtins.__import__

    def hide(name, *a, **k):
        if name == "llama_cpp" or name.startswith("llama_cpp."):
            raise ModuleNotFoundError(name=name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", hide)
    with pytest.raises(LLMError, match=r"pip install 'shopmind\[llm\]'"):
        open_llm("llama-cpp:smollm2")


def test_prompt_echo_is_not_an_answer(shop, products):
    bot = Assistant(ShopTools(shop), UNHURRIED, llm=ScriptedLLM("你是商店客服。把下面的事实改写成简短友好的回答。FACTS: - x"))
    r = bot.chat("fc-5", "这件的领型是什么？", product_id="mp0000")
    assert r.llm.backend == "none" and "圆领" in r.text and len(r.llm.dropped) == 3
