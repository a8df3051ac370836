"""`shopmind` command line: a thin skin over the ShopMind facade."""

from shopmind.cli.generate import generate_app
from shopmind.cli.main import app, main
from shopmind.cli.understand import enrich_cmd

app.command("enrich")(enrich_cmd)  # registered here: cli/main.py is at its size limit
app.add_typer(generate_app, name="generate")

__all__ = ["app", "main"]
