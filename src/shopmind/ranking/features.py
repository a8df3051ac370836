"""The feature registry: every learned model's feature columns, in order, each with one line saying what it is and
the part of the code that computes it.

A model's `FEATURES` list comes from here (`feature_names(set_name)`), and its saved sidecar repeats them, so a
model can never be fed columns in another order than it was trained on, and a new engineer finds what a column
means in one place. Sets: "search" (the LambdaMART ranker over query × candidate), "ads_ctr" (pCTR over
request × ad), "assistant_attribute" (question × product attribute). A part may `register` further sets.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feature:
    """One model input column."""

    name: str
    description: str
    computed_by: str  # "module:qualified.name" of the code that fills the column


@dataclass(frozen=True)
class FeatureSet:
    """The ordered columns of one model."""

    name: str
    features: tuple[Feature, ...]

    @property
    def names(self) -> list[str]:
        """Column names in model order."""
        return [f.name for f in self.features]

    def describe(self) -> dict[str, str]:
        """{name: one-line description}, in model order (for docs, `why` output and the dashboard)."""
        return {f.name: f.description for f in self.features}


REGISTRY: dict[str, FeatureSet] = {}


def register(name: str, computed_by: str, features: Sequence[tuple[str, str]]) -> FeatureSet:
    """Declare a model's columns as (name, description) pairs, all computed by `computed_by`; registering the same
    name again must give the same columns (a second, different layout is an error, not a silent swap)."""
    names = [n for n, _ in features]
    if len(set(names)) != len(names):
        raise ValueError(f"feature set {name!r} repeats a name: {sorted(n for n in set(names) if names.count(n) > 1)}")
    fs = FeatureSet(name, tuple(Feature(n, d, computed_by) for n, d in features))
    old = REGISTRY.get(name)
    if old is not None and old != fs:
        raise ValueError(f"feature set {name!r} is already registered with other columns")
    REGISTRY[name] = fs
    return fs


def feature_set(name: str) -> FeatureSet:
    """A registered set (KeyError naming the known sets otherwise)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no feature set {name!r}; registered: {sorted(REGISTRY)}") from None


def feature_names(name: str) -> list[str]:
    """The column names of a registered set, in model order."""
    return feature_set(name).names


SEARCH = register("search", "shopmind.search.stages.features:feature_matrix", [
    ("bm25", "BM25 score of the candidate over all indexed fields"),
    ("bm25_title", "BM25 over the title field alone"),
    ("bm25_brand", "BM25 over the brand field"),
    ("bm25_category", "BM25 over the category path"),
    ("bm25_attributes", "BM25 over the attribute values"),
    ("bm25_description", "BM25 over the description"),
    ("bm25_pinyin", "BM25 over the pinyin of Chinese titles"),
    ("title_coverage", "share of the query's terms found in the title"),
    ("title_idf_coverage", "IDF-weighted share of the query's terms found in the title"),
    ("title_last_term", "1 when the query's last term (usually the head noun) is in the title"),
    ("title_all_terms", "1 when every query term is in the title"),
    ("dense_cos", "cosine of query and product embeddings"),
    ("dense_cos_gap", "best candidate's cosine minus this one's"),
    ("lex_rank_log", "log1p of the candidate's rank in lexical retrieval"),
    ("dense_rank_log", "log1p of the candidate's rank in dense retrieval"),
    ("rrf", "reciprocal-rank fusion score of the lexical and dense lists"),
    ("convex", "convex mix of normalised lexical and dense scores"),
    ("intent_match", "confidence of the understood category when the product is in it, else 0"),
    ("entity_match", "number of understood brands and attribute values the product matches"),
    ("popularity", "event-weighted popularity of the product"),
    ("ctr", "smoothed click-through rate of the product in search"),
    ("conversion", "smoothed conversion rate of the product"),
    ("age_days", "days since the product was created"),
    ("in_stock", "1 when the product is in stock"),
    ("price_fit", "1 inside the price range the query asked for, 0 outside, NaN when none asked"),
    ("user_category_affinity", "share of the user's earlier items in the product's leaf category (0: no history)"),
    ("user_brand_affinity", "share of the user's earlier items of the product's brand"),
    ("user_price_affinity", "share of the user's earlier items in the product's price band (catalog quantile bands)"),
    ("user_attribute_affinity", "mean over the product's attribute values of the share of the user's earlier items carrying it"),
    ("user_vector_cos", "cosine of the user vector (recency-weighted mean of their items' embeddings) and the product's"),
    ("user_history", "log1p of the number of the user's earlier items the features above are computed from"),
    ("query_terms", "number of distinct query terms"),
    ("title_terms", "number of terms in the product title"),
    ("rising_item", "forecast demand-growth z-score of the product (0: not rising, or no event history)"),
    ("rising_category", "the same for its top-level category"),
    ("title_bigram_share", "share of the query's adjacent term pairs that are adjacent in the title (NaN: one term)"),
    ("title_number_share", "share of the query's numbers (as values: 3/4 = 0.75, unit kept) in the title (NaN: none)"),
    ("title_first_term", "1 when the title's first term (usually the brand) is a query term"),
    ("title_last_term_pos", "position of the query's last term in the title over the title's length (NaN: absent)"),
    ("title_span", "span of the query terms in the title over their count: 1 when together (NaN: under two)"),
    ("bm25_title_ratio", "title BM25 over the best title BM25 among the query's reranked candidates"),
    ("idf_coverage_gap", "best IDF-weighted title coverage among the reranked candidates minus this one's"),
    ("bm25_rank_head", "rank of the candidate's BM25 among the reranked candidates (0: best)"),
])

USER_FEATURES: tuple[str, ...] = tuple(n for n in SEARCH.names if n.startswith("user_"))
"""The search ranker's personal columns: all 0 without a user; a model trained without users drops them."""


def constant_features(X: np.ndarray, names: Sequence[str]) -> list[str]:
    """Names of the columns of X that hold one value on every row (NaN counts as a value): nothing to learn from."""
    X = np.asarray(X, np.float64)
    if len(X) == 0:
        return list(names)
    first = X[:1]
    same = (first == X) | (np.isnan(X) & np.isnan(first))
    return [n for n, c in zip(names, same.all(axis=0), strict=True) if c]


ADS_CTR = register("ads_ctr", "shopmind.ads.model:AdsModel.features", [
    ("position", "0-based slot the ad was shown in (served as 0: the top slot's CTR is predicted)"),
    ("placement", "index of the placement in the config's placement list, -1 if unknown"),
    ("relevance", "cosine of ad product and user (mean of recent items) or query"),
    ("item_popularity", "log1p interactions with the product in the training events"),
    ("item_ctr", "smoothed ad CTR of the product in the training impressions"),
    ("user_category_affinity", "share of the user's recent items in the product's top category"),
    ("campaign_ctr", "smoothed CTR of the campaign in the training impressions"),
    ("user_activity", "log1p length of the user's recent history"),
    ("has_query", "1 when the slot is on a search page"),
    ("cf_affinity", "cosine of product and user in the co-occurrence (truncated SVD) space of the event log"),
])

ASSISTANT_ATTRIBUTE = register("assistant_attribute", "shopmind.assistant.attrank:features", [
    ("cent_cos", "cosine of the question to the centroid of questions this attribute answered in training"),
    ("cent_gap", "cent_cos minus the best other attribute's"),
    ("cent_rank", "rank of cent_cos among the product's attributes"),
    ("name_cos", "cosine of the question to the attribute's name"),
    ("name_gap", "name_cos minus the best other attribute's"),
    ("name_rank", "rank of name_cos among the product's attributes"),
    ("lex_key", "question words (stemmed, no stop words) in the attribute name"),
    ("hint", "question words whose hand-written hints point at the attribute name"),
    ("aspect_key", "1 when the question's aspect (colour, size...) names this attribute"),
    ("lex_val", "question words in the attribute value"),
    ("val_num", "1 when the value is a bare number"),
    ("val_len", "length of the value in characters"),
    ("assoc", "learned question-word → name-word association score"),
    ("assoc_gap", "assoc minus the best other attribute's"),
    ("pack_key", "1 when the attribute is about the package or shipping"),
    ("pack_q", "1 when the question is about shipping, package or box"),
    ("n_items", "number of attributes the product has"),
    ("qtype", "index of the question's opening phrase (how many, what colour, is...)"),
    ("key_len", "number of words in the attribute name"),
    ("val_cos", "cosine of the question to 'name: value'"),
    ("val_gap", "val_cos minus the best other attribute's"),
    ("val_rank", "rank of val_cos among the product's attributes"),
    ("knn_max", "best cosine to a training question this attribute answered"),
    ("knn_gap", "knn_max minus the best other attribute's"),
    ("xknn", "nearest training question of similarly named attributes, weighted by name similarity"),
    ("xknn_gap", "xknn minus the best other attribute's"),
    ("soft_cent", "question cosine to other attributes' centroids, softmax-weighted by name similarity"),
    ("soft_gap", "soft_cent minus the best other attribute's"),
    ("proxy_sim", "name similarity to the most similarly named learned attribute"),
    ("proxy_cos", "question cosine to that attribute's centroid"),
    ("key_cover", "share of the name's words the question uses"),
    ("val_cover", "share of the value's words the question uses"),
    ("val_phrase", "1 when the question names the value itself"),
    ("val_shared", "number of other attributes with the same value"),
    ("bil", "learned low-rank question × 'name: value' similarity"),
    ("bil_gap", "bil minus the best other attribute's"),
    ("m_name_cos", "MiniLM cosine of the question to the attribute name"),
    ("m_name_gap", "m_name_cos minus the best other attribute's"),
    ("m_val_cos", "MiniLM cosine of the question to 'name: value'"),
    ("m_val_gap", "m_val_cos minus the best other attribute's"),
    ("m_val_rank", "rank of m_val_cos among the product's attributes"),
])
