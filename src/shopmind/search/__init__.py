"""Product search: query understanding, hybrid retrieval with filters inside, fusion, LTR, facets."""

from shopmind.search.config import MerchRule, SearchConfig, StageSwitches
from shopmind.search.models import Facet, Hit, QueryUnderstanding, SearchResponse, Why
from shopmind.search.service import SearchService

__all__ = ["Facet", "Hit", "MerchRule", "QueryUnderstanding", "SearchConfig", "SearchResponse", "SearchService", "StageSwitches", "Why"]
