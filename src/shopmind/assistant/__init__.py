"""Shopping assistant: multi-turn chat grounded in the catalog and the shop's FAQ, with pluggable LLMs
that only phrase facts (and a fact check that drops any sentence stating something no source supports)."""

from shopmind.assistant.assistant import Assistant
from shopmind.assistant.config import AssistantConfig
from shopmind.assistant.models import (
    ChatResponse,
    GeneratedText,
    ProductCard,
    Sentence,
    Slots,
    Source,
)

__all__ = ["Assistant", "AssistantConfig", "ChatResponse", "GeneratedText", "ProductCard", "Sentence", "Slots", "Source"]
