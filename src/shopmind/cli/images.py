"""`shopmind images build` (product image vectors) and `shopmind images duplicates` (near-duplicate groups, hygiene)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at
from shopmind.errors import NotBuilt

images_app = typer.Typer(help="Product images: embeddings, visually similar products, near-duplicates.", no_args_is_help=True)


@images_app.command("build")
def build_cmd(
    image_dir: Annotated[Path | None, typer.Option("--image-dir", help="folder that relative image paths are read from (default <home>/images)")] = None,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="an http(s) host of the shop's own images (repeatable)")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Embed every product's first image (EfficientNet-Lite0, cached by content hash) into a new image_vectors version."""
    with shop_at(home) as shop:
        try:
            result = shop.build_images(base_dir=image_dir, allowed_hosts=tuple(allow_host or ()))
        except ImportError as exc:
            fail(str(exc))
    if as_json:
        emit_json(result)
        return
    if not result:
        typer.echo("no product has an image: nothing to build")
        return
    r = result["image_vectors"]
    typer.echo(f"image_vectors {r['version']}: {r['products']} products embedded ({r['encoded']} new), {r['unreadable']} unreadable, "
               f"{r['without_images']} without images, {r['seconds']:.1f}s")


@images_app.command("duplicates")
def duplicates_cmd(home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Groups of products whose images are near-duplicates (pHash ≤ 4 of 64 bits or embedding cosine ≥ 0.88)."""
    with shop_at(home) as shop:
        try:
            result = shop.image_duplicates()
        except NotBuilt as exc:
            fail(str(exc))
    if as_json:
        emit_json(result)
        return
    typer.echo(f"{result['count']} near-duplicate group(s)")
    for g in result["groups"]:
        typer.echo(f"  {', '.join(g['products'])}  (min cosine {g['min_cosine']}, max pHash distance {g['max_phash_distance']})")
