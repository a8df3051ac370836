"""Real catalog slices for search tests: Home Depot titles, Multi-CPR (zh), and OpenBG Taobao items
(title + brand + attributes + coarse/fine category, from shared/data/ecomgpt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopmind.domain import Product

OPENBG = [
    "ecomgpt/data__ecom_instruct_v1__OpenBG_Align__tasks__ZH-OpenBG_Align-CLS-item_coarse_classify__test.json",
    "ecomgpt/data__ecom_instruct_v1__OpenBG_Align__tasks__ZH-OpenBG_Align-CLS-item_fine_classify__test.json",
]


def openbg_products(shared: Path) -> list[Product]:
    """OpenBG items: 'title<TAB>key#:#value#;#…' with labels {coarse, fine} → Products (no price in the data)."""
    out: list[Product] = []
    seen = set()
    for rel in OPENBG:
        for i, line in enumerate((shared / rel).read_text(encoding="utf-8").splitlines()):
            rec = json.loads(line)
            title, _, attr_text = rec["sentences"].partition("\t")
            if title in seen:
                continue
            seen.add(title)
            attrs: dict[str, list[str]] = {}
            for pair in attr_text.split("#;#"):
                k, sep, v = pair.partition("#:#")
                if sep and k.strip() and v.strip():
                    attrs.setdefault(k.strip(), []).append(v.strip())
            brand = (attrs.pop("品牌", [None]) or [None])[0]
            keep = {k: v for k, v in attrs.items() if k in ("颜色分类", "风格", "材质", "适用对象", "功效", "适用季节", "流行元素")}
            labels = rec["labels"]
            out.append(
                Product(
                    id=f"ob{len(out):04d}",
                    title=title,
                    brand=brand,
                    category=[labels["coarse"][0], labels["fine"][0]],
                    attributes=keep,
                    language="zh",
                )
            )
    return out


def read_jsonl(path: Path, limit: int | None = None) -> list[Product]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(Product(**json.loads(line)))
            if limit and len(out) >= limit:
                break
    return out


@pytest.fixture(scope="session")
def openbg(shared_data: Path) -> list[Product]:
    return openbg_products(shared_data)


@pytest.fixture(scope="session")
def hd_slice(shared_data: Path) -> list[Product]:
    """First 2,000 Home Depot products (titles only)."""
    return read_jsonl(shared_data / "search" / "homedepot" / "products.jsonl", 2000)


@pytest.fixture(scope="session")
def zh_products(shared_data: Path) -> list[Product]:
    return read_jsonl(shared_data / "search" / "multicpr-zh" / "products.jsonl")
