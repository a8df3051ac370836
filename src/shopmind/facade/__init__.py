"""Verb groups of the `ShopMind` facade, split out of engine.py by topic (mixins; engine.py wires them).

Only the engine imports this package: parts below it never do.
"""

from shopmind.facade.artifacts import ArtifactVerbs
from shopmind.facade.insights import InsightVerbs
from shopmind.facade.serving import ServingVerbs

__all__ = ["ArtifactVerbs", "InsightVerbs", "ServingVerbs"]
