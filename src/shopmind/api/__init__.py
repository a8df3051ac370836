"""HTTP API: a thin FastAPI skin over the ShopMind facade."""

from shopmind.api.app import create_app

__all__ = ["create_app"]
