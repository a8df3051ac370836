"""Stop words per language: the one list of each, and the documented variants built from it.

`EN_STOPWORDS` / `ZH_STOPWORDS` are what the index and query tokenisers drop (search, suggestions). Matching
a shopper's *question* against FAQ sections or product attributes needs a different list: prepositions such as
"at", "by", "from", "without" carry meaning there ("works without batteries?"), while pronouns, modal verbs and
question words ("can you", "what") carry none — so the question lists start from the shared one.
"""

from __future__ import annotations

EN_STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it", "its", "of", "on", "or", "s", "that", "the", "to", "with", "without", "x"]
)
ZH_STOPWORDS = frozenset(["的", "了", "和", "与", "及", "或", "是", "在", "有", "个"])
STOPWORDS = {"en": EN_STOPWORDS, "zh": ZH_STOPWORDS}

# function words of EN_STOPWORDS that still mean something in a question (kept there)
_MEANINGFUL_IN_QUESTIONS = frozenset(["as", "at", "by", "from", "into", "its", "s", "without", "x"])
EN_PRONOUNS = frozenset(["i", "me", "my", "you", "your", "we", "our", "us"])
EN_QUESTION_WORDS = frozenset(["what", "where", "when", "how", "which", "who", "do", "does", "can", "could", "would", "will", "this", "there"])
# Chinese question words ("what", "which", "how many", "how heavy"…) and the A-not-A yes/no form (吵不吵, 有没有,
# 麻烦不麻烦) as regex fragments: a message holding one asks a question (the assistant's routing, language and question type)
ZH_QUESTION_WORDS = "什么|啥|哪|几|多少|怎么|怎样|多重|多大|多长|多高|是否|谁|多久"
ZH_A_NOT_A = r"(?P<a>(?!不)[\u4e00-\u9fff]{1,2})[不没](?P=a)"

# what a question about the shop (FAQ matching) drops
EN_QUESTION_STOPWORDS = (EN_STOPWORDS - _MEANINGFUL_IN_QUESTIONS) | EN_PRONOUNS | EN_QUESTION_WORDS

# what a question about one product's attributes drops: the attribute ranker (assistant/attrank.py) was trained
# and tuned with this narrower list, so it keeps it — a retrain is what would justify moving it to the FAQ list
EN_ATTRIBUTE_QUESTION_STOPWORDS = (
    EN_QUESTION_STOPWORDS - frozenset(["where", "when", "which", "who", "could", "would", "will", "we", "our", "us"])
) | frozenset(["these", "those", "any"])
