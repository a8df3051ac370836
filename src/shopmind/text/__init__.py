"""Text handling for search: normalisation, tokenisation (English, Chinese, pinyin) and dense encoders."""

from shopmind.text.normalize import detect_language, normalize, normalize_units, to_simplified
from shopmind.text.tokenize import chinese_tokens, english_tokens, pinyin_query_tokens, pinyin_tokens, tokenize, words

__all__ = [
    "chinese_tokens",
    "detect_language",
    "english_tokens",
    "normalize",
    "normalize_units",
    "pinyin_query_tokens",
    "pinyin_tokens",
    "to_simplified",
    "tokenize",
    "words",
]
