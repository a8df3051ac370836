"""LLM phrasing under a fact check: the model rewrites grounded sentences; any output sentence with a
number, size, colour or brand that no source supports is dropped before the answer leaves."""

from __future__ import annotations

import re
from collections.abc import Iterator

from shopmind.assistant.factcheck import FactChecker, split_sentences
from shopmind.assistant.models import LLMInfo, Sentence, Source

SYSTEM = {
    "en": "You are a shop assistant. Rewrite the FACTS into a short, friendly answer to the shopper. Use only the FACTS: "
          "never add numbers, sizes, colours, brands or any other fact. Keep every 'does not say'. Answer in English, at most 4 sentences.",
    "zh": "你是商店客服。把下面的事实改写成简短友好的回答。只能使用这些事实：不要添加任何数字、尺码、颜色、品牌或其他信息。"
          "保留所有“没有写明”的说法。用中文回答，最多4句。",
}
NEGATION = re.compile(r"\b(not|no|n't|doesn't|does not)\b|不|没")


def messages_for(message: str, grounded: list[Sentence], lang: str) -> list[dict[str, str]]:
    facts = "\n".join(f"- {s.text}" for s in grounded)
    return [{"role": "system", "content": SYSTEM.get(lang, SYSTEM["en"])},
            {"role": "user", "content": f"Shopper: {message}\nFACTS:\n{facts}"}]


def _overlap(a: str, b: str) -> float:
    A = {a[i : i + 3] for i in range(max(len(a) - 2, 1))}
    B = {b[i : i + 3] for i in range(max(len(b) - 2, 1))}
    return len(A & B) / max(len(A | B), 1)


def attribute(text: str, grounded: list[Sentence]) -> Sentence:
    """Give an LLM sentence the source (and evidence) of the grounded sentence it most resembles."""
    best = max(grounded, key=lambda g: _overlap(text.casefold(), g.text.casefold()), default=None)
    if best is None or _overlap(text.casefold(), best.text.casefold()) < 0.08:
        return Sentence(text=text, source=Source(kind="none"))
    return Sentence(text=text, source=best.source, evidence=best.evidence)


def echoes_prompt(sentence: str) -> bool:
    """A small model sometimes repeats its instructions or the FACTS header: that is never an answer."""
    low = sentence.casefold()
    if re.search(r"\bfacts\s*[:：]|shopper\s*[:：]|事实[:：]", low):
        return True
    grams = {low[i : i + 3] for i in range(max(len(low) - 2, 1))}
    for prompt in SYSTEM.values():
        p = prompt.casefold()
        if sum(g in p for g in grams) / max(len(grams), 1) > 0.6:  # most of the sentence is copied from the instructions
            return True
    return False


class Phraser:
    """Checks LLM output sentence by sentence against the evidence of the grounded answer."""

    def __init__(self, checker: FactChecker) -> None:
        self.checker = checker

    def evidence(self, message: str, grounded: list[Sentence]) -> str:
        return "\n".join([message] + [s.text + " | " + s.evidence for s in grounded])

    def check(self, raw: str, message: str, grounded: list[Sentence], info: LLMInfo) -> list[Sentence]:
        """Checked, attributed sentences from a full LLM reply ([] when nothing survives)."""
        ev = self.evidence(message, grounded)
        out = []
        for s in split_sentences(raw):
            if echoes_prompt(s) or self.checker.unsupported(s, ev):
                info.dropped.append(s)
            else:
                out.append(attribute(s, grounded))
        return self.keep_unknowns(out, grounded)

    def keep_unknowns(self, out: list[Sentence], grounded: list[Sentence]) -> list[Sentence]:
        """A 'the catalog does not say' must survive rephrasing; put it back if the model lost it."""
        if not out:
            return out
        for g in grounded:
            if g.source.field == "none" and not any(NEGATION.search(s.text.casefold()) for s in out):
                out.append(g)
        return out

    def stream_checked(self, chunks: Iterator[str], message: str, grounded: list[Sentence], info: LLMInfo) -> Iterator[Sentence]:
        """Sentences from a token stream, each released only after it passes the check."""
        ev = self.evidence(message, grounded)
        buf = ""
        for chunk in chunks:
            buf += chunk
            parts = split_sentences(buf)
            if len(parts) > 1 and re.search(r"[.!?。！？\n]\s*\S*$", buf):
                for s in parts[:-1]:
                    if echoes_prompt(s) or self.checker.unsupported(s, ev):
                        info.dropped.append(s)
                    else:
                        yield attribute(s, grounded)
                buf = parts[-1]
        for s in split_sentences(buf):
            if echoes_prompt(s) or self.checker.unsupported(s, ev):
                info.dropped.append(s)
            else:
                yield attribute(s, grounded)
