"""Readers that turn the public data sets in shared/data into Products (and known-answer questions) for the
assistant's tests, bench and training set. Nothing here invents values: fields missing from a source stay empty.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shopmind.domain import Product

csv.field_size_limit(10**8)
OPENBG_FILES = (
    "ecomgpt/data__ecom_instruct_v1__OpenBG_Align__tasks__ZH-OpenBG_Align-CLS-item_coarse_classify__test.json",
    "ecomgpt/data__ecom_instruct_v1__OpenBG_Align__tasks__ZH-OpenBG_Align-CLS-item_fine_classify__test.json",
)
MEPAVE_FILE = "ecomgpt/data__ecom_instruct_v1__MEPAVE__tasks__ZH-MEPAVE-NER-attribute_value_extraction__test.json"


def read_products(path: Path, limit: int | None = None, every: int = 1, offset: int = 0) -> list[Product]:
    """Products from an import-format JSONL file (every n-th line from offset, up to limit)."""
    out: list[Product] = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < offset or (i - offset) % every:
                continue
            out.append(Product(**json.loads(line)))
            if limit and len(out) >= limit:
                break
    return out


OPENBG_KEEP = ("颜色分类", "风格", "材质", "适用对象", "适用季节", "流行元素", "产地", "净含量", "毛重", "尺码", "适用性别")


def openbg_products(shared: Path, keep_keys: Sequence[str] = OPENBG_KEEP, flatten: bool = True) -> list[Product]:
    """OpenBG Taobao items: title, brand (品牌), coarse > fine category and attributes, as the data has them.

    `keep_keys`: the attributes kept; `flatten`: one-value lists become plain values.
    """
    out: list[Product] = []
    seen: set[str] = set()
    for rel in OPENBG_FILES:
        for line in (shared / rel).read_text(encoding="utf-8").splitlines():
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
            keep = {k: v[0] if flatten and len(v) == 1 else v for k, v in attrs.items() if k in keep_keys}
            out.append(Product(id=f"ob{len(out):04d}", title=title, brand=brand, category=[rec["labels"]["coarse"][0], rec["labels"]["fine"][0]],
                               attributes=keep, language="zh"))
    return out


@dataclass
class Question:
    """A real or generated question with its known answer (attribute name, or None when the catalog lacks it).

    `alternatives`: every (attribute, value) the data set labels as answering it (answer_key/answer_value is
    one of them); a product's "brand" attribute lives in Product.brand.
    """

    product_id: str
    text: str
    answer_key: str | None
    answer_value: str | None
    alternatives: tuple[tuple[str, str], ...] = ()


def _parse_candidate(cand: str) -> tuple[str, str | None]:
    """'color:  { standardized_values:[ "x" ], value:"white" }' → ('color', 'white')."""
    key, _, rest = cand.partition(":")
    m = re.search(r'(?<![_a-z])value:\s*"([^"]*)"', rest) or re.search(r"(?<![_a-z])value:\s*([^,}\s]+)", rest)
    return key.strip(), (m.group(1).strip() if m else None)


def epqa(shared: Path) -> tuple[list[Product], list[Question]]:
    """ePQA dev: Amazon products (title + attributes) and real questions whose fully-answering evidence
    (label 2) is one of the product's attributes."""
    with open(shared / "productqa/ePQA__dev.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    titles: dict[str, str] = {}
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    answers: dict[tuple[str, str], tuple[str, str]] = {}
    every: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        titles.setdefault(r["ASIN"], r["title"])
        if r["source"] == "attribute":
            k, v = _parse_candidate(r["candidate"])
            if v and v.lower() not in ("true", "false") and len(v) < 120:
                attrs[r["ASIN"]][k] = v
                if r["label"] == "2":
                    answers[(r["ASIN"], r["question"])] = (k, v)
                    every[(r["ASIN"], r["question"])].append((k, v))
    products = []
    for asin, title in titles.items():
        a = dict(attrs.get(asin, {}))
        brand = a.pop("brand", None)
        if title.strip():
            products.append(Product(id=f"pqa-{asin}", title=title[:2000], brand=brand, attributes=a, language="en"))
    questions = [Question(f"pqa-{asin}", q, k, v, tuple(every[(asin, q)])) for (asin, q), (k, v) in answers.items()]
    return products, questions


def mepave(shared: Path) -> list[tuple[Product, dict[str, list[str]]]]:
    """MEPAVE (JD) product texts with their labelled attribute spans → Product with those attributes."""
    out = []
    for i, line in enumerate((shared / MEPAVE_FILE).read_text(encoding="utf-8").splitlines()):
        rec = json.loads(line)
        spans: dict[str, list[str]] = defaultdict(list)
        for s in rec.get("spans", []):
            if s["term"] not in spans[s["type"]]:
                spans[s["type"]].append(s["term"])
        if not spans:
            continue
        attrs = {k: v if len(v) > 1 else v[0] for k, v in spans.items()}
        out.append((Product(id=f"mp{i:04d}", title=rec["sentences"], attributes=attrs, language="zh"), dict(spans)))
    return out


def priced_toys(shared: Path) -> list[Product]:
    """The hetPQA toys whose attributes carry a real list price; title = the product page's first
    description/bullet sentence (hetPQA gives no title), category Toys & Games (the set's one category)."""
    with open(shared / "productqa/hetPQA__evidence_ranking__dev.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    attrs: dict[str, dict[str, str]] = defaultdict(dict)
    text: dict[str, str] = {}
    for r in rows:
        if r["source"] == "attribute":
            k, v = _parse_candidate(r["candidate"])
            if k == "list_price":
                m = re.search(r"value:\s*([\d.]+)", r["candidate"])
                v = m.group(1) if m else None
            if v:
                attrs[r["ASIN"]][k] = v
        elif r["source"] in ("Desc", "bullet") and r["ASIN"] not in text:
            text[r["ASIN"]] = r["candidate"].strip().rstrip(".")
    out = []
    for asin, a in attrs.items():
        if "list_price" in a and asin in text:
            price = float(a.pop("list_price"))
            brand = a.pop("brand", None)
            keep = {k: v for k, v in a.items() if k in ("color", "size", "material", "age_range_description", "item_weight")}
            out.append(Product(id=f"toy-{asin}", title=text[asin][:200], brand=brand, price=price, currency="USD",
                               category=["Toys & Games"], attributes=keep, language="en"))
    return out


def movies(shared: Path) -> list[Product]:
    """MovieLens-100K items: title, year and genres (as the demo shop has them)."""
    out = []
    lines = (shared / "ml-100k/ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 4:
            continue
        iid, title, year, genres = parts[:4]
        g = genres.split()
        out.append(Product(id=f"m{iid}", title=title, category=g[:1], attributes={"year": int(year) if year.isdigit() else year, "genres": g}, language="en"))
    return out


def qrels(path: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for line in path.read_text(encoding="utf-8").splitlines():
        q, pid, g = line.split("\t")[:3]
        if g.isdigit():
            out[q][pid] = int(g)
    return out


def queries(path: Path) -> dict[str, str]:
    return dict(line.split("\t", 1) for line in path.read_text(encoding="utf-8").splitlines() if "\t" in line)
