"""`shopmind` command line: a thin skin over the ShopMind facade."""

from shopmind.cli.main import app, main

__all__ = ["app", "main"]
