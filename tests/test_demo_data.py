"""The demo slice ships with its provenance: SOURCE.md names the source, the licence terms, the citation and the
script that regenerates it, and its figures match the committed files."""

from __future__ import annotations

import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]


def test_source_md_names_the_licence_citation_and_script(demo_data: Path):
    text = (demo_data / "SOURCE.md").read_text(encoding="utf-8")
    assert "MovieLens 100K" in text and "GroupLens" in text
    for term in ("The user may not redistribute the data without separate", "commercial or",
                 "revenue-bearing purposes without first obtaining permission", "may not state or imply any endorsement"):
        assert term in text, term
    assert "Harper" in text and "Konstan" in text and "10.1145/2827872" in text
    assert "not covered by ShopMind's Apache-2.0 licence" in text
    assert "scripts/make_demo_data.py" in text and (REPO / "scripts" / "make_demo_data.py").is_file()


def test_source_md_figures_match_the_files(demo_data: Path):
    text = (demo_data / "SOURCE.md").read_text(encoding="utf-8")
    products = [json.loads(line) for line in (demo_data / "products.jsonl").read_text(encoding="utf-8").splitlines()]
    users = (demo_data / "users.csv").read_text(encoding="utf-8").splitlines()[1:]
    events = pq.read_table(demo_data / "events.parquet", columns=["type"]).column("type").to_pylist()
    for name, n in (("products.jsonl", len(products)), ("users.csv", len(users)), ("events.parquet", len(events))):
        assert f"`{name}`, {n:,})" in text, name
    assert f"later ({events.count('favorite'):,})" in text
    assert all(re.fullmatch(r"m\d+", p["id"]) for p in products) and all(u.startswith("u") for u in users)


def test_source_md_ships_in_the_package():
    """package-data globs (pyproject) include it, so an installed wheel carries the licence with the data."""
    globs = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["shopmind"]
    assert any(fnmatch("data/demo/SOURCE.md", g) for g in globs)


def test_readme_cites_it():
    assert "src/shopmind/data/demo/SOURCE.md" in (REPO / "README.md").read_text(encoding="utf-8")
