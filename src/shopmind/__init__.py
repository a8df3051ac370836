"""ShopMind: self-hosted search, recommendation, ads and shopping assistant for e-commerce."""

from shopmind.domain import Event, EventType, Product, User

__version__ = "0.1.0"
__all__ = ["Event", "EventType", "Product", "ShopMind", "User", "__version__"]


def __getattr__(name: str):  # lazy: `import shopmind` must stay cheap for the CLI and workers
    if name == "ShopMind":
        from shopmind.engine import ShopMind

        return ShopMind
    raise AttributeError(name)
