"""One facade, local or remote: `RemoteShopMind` drives a ShopMind server over its HTTP API with the embedded
facade's verbs, signatures and response types; `ShopAPI` is the Protocol both satisfy.

`ShopMind.open("http://host:8000", api_key=…)` returns one (the engine dispatches by URL scheme). This package
imports neither the engine nor any part: httpx, pydantic and the response models only.
"""

from shopmind.remote.client import EMBEDDED_ONLY, RemoteShopMind
from shopmind.remote.http import AccessDenied, RateLimited, RemoteError, RemoteInvalid, RemoteNotFound, RemoteTimeout, RemoteUnavailable
from shopmind.remote.protocol import CatalogAPI, EventsAPI, ShopAPI, UsersAPI

__all__ = ["EMBEDDED_ONLY", "SCHEMES", "AccessDenied", "CatalogAPI", "EventsAPI", "RateLimited", "RemoteError", "RemoteInvalid", "RemoteNotFound",
           "RemoteShopMind", "RemoteTimeout", "RemoteUnavailable", "ShopAPI", "UsersAPI"]

# URL scheme → the remote facade that serves it (`ShopMind.open` consults this; every other scheme names a store)
SCHEMES: dict[str, type[RemoteShopMind]] = {"http": RemoteShopMind, "https": RemoteShopMind}
