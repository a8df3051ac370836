"""Retrieval indexes behind one Protocol: multi-field BM25 (bm25s) and dense vectors (faiss, or Milvus by URL: see backends)."""

from shopmind.index.base import Index, top_k
from shopmind.index.lexical import LexicalIndex
from shopmind.index.vectors import VectorIndex

__all__ = ["Index", "LexicalIndex", "VectorIndex", "top_k"]
