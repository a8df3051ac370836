"""Recommendation: candidate models behind one base class (`base.Recommender`), a name → class registry,
offline evaluation (`shopmind.evaluation.recs_eval`) and the placement service (`service.RecommendService`).

    from shopmind.recommend import Interactions, create
    inter = Interactions.from_seqrec_file("Beauty.txt")
    model = create("itemknn", window=3, recency=0.7).fit(inter)
    ids, scores = model.recommend([inter.sequence(0)], k=10)
"""

from shopmind.recommend.base import Interactions, Recommender, available, create

__all__ = ["Interactions", "Recommender", "available", "create"]
