"""Columnar product table for filtering, faceting, sorting and display, kept beside the indexes.

Rows match the index rows. Categorical fields are integer codes (brand), path-prefix codes per depth
(category) or sparse row × value matrices (attributes, multi-valued), so filter masks and facet counts
are numpy/scipy operations over all rows, never Python loops.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shopmind.domain import Product
from shopmind.understand.enrich import facet_attributes

CAT_SEP = " > "
MAX_DEPTH = 6


def _attr_values(value: Any) -> list[str]:
    """Attribute value(s) as display strings (lists stay multi-valued; long free text is skipped)."""
    vals = value if isinstance(value, list) else [value]
    out = []
    for v in vals:
        if v is None or isinstance(v, (dict, list)):
            continue
        s = str(v).strip() if not isinstance(v, bool) else ("true" if v else "false")
        if s and len(s) <= 60:
            out.append(s)
    return out


class _Vocab:
    """String ↔ code map that grows on upsert."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        self.code: dict[str, int] = {}
        for v in values:
            self.get(v)

    def get(self, value: str) -> int:
        c = self.code.get(value)
        if c is None:
            c = self.code[value] = len(self.values)
            self.values.append(value)
        return c


class ProductTable:
    """Per-row product fields as arrays: ids, titles, price, stock, time, brand, category, attributes."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.titles: list[str] = []
        self.price = np.zeros(0, np.float64)
        self.in_stock = np.zeros(0, bool)
        self.created = np.zeros(0, np.float64)
        self.alive = np.zeros(0, bool)
        self.brand = np.zeros(0, np.int32)
        self.brands = _Vocab()
        self.cat = np.zeros((0, MAX_DEPTH), np.int32)
        self.cats = _Vocab()
        self.attrs: dict[str, sp.csr_matrix] = {}
        self.attr_vocab: dict[str, _Vocab] = {}
        self.title_read: dict[str, np.ndarray] = {}  # per key: rows whose value was extracted from their own title
        self.popularity = np.zeros(0, np.float32)
        self.ctr = np.zeros(0, np.float32)
        self.conversion = np.zeros(0, np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ building
    def append(self, products: Sequence[Product]) -> np.ndarray:
        """Add products as new rows (an existing id's old row is marked dead); returns the new rows."""
        start = len(self.ids)
        n = len(products)
        for p in products:
            old = self.row_of.get(p.id)
            if old is not None:
                self.alive[old] = False
        price = np.array([np.nan if p.price is None else p.price for p in products], np.float64)
        stock = np.array([p.available for p in products], bool)
        created = np.array([np.nan if p.created_at is None else p.created_at.timestamp() for p in products], np.float64)
        brand = np.array([-1 if not p.brand else self.brands.get(p.brand) for p in products], np.int32)
        cat = np.full((n, MAX_DEPTH), -1, np.int32)
        for i, p in enumerate(products):
            for d in range(min(len(p.category), MAX_DEPTH)):
                cat[i, d] = self.cats.get(CAT_SEP.join(p.category[: d + 1]))
        attrs = [facet_attributes(p) for p in products]  # the shop's attributes over extracted ones (understand.enrich)
        from_title = [{k for k, v in p.attributes_extracted.items() if v.get("source") == "title"} for p in products]
        keys = sorted({k for a in attrs for k in a} | set(self.attrs))
        for key in keys:
            voc = self.attr_vocab.setdefault(key, _Vocab())
            rows, cols = [], []
            for i, a in enumerate(attrs):
                for v in _attr_values(a.get(key)):
                    rows.append(i)
                    cols.append(voc.get(v))
            new = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(voc.values)))
            old = self.attrs.get(key, sp.csr_matrix((start, len(voc.values)), dtype=np.float32))
            old.resize((start, len(voc.values)))
            self.attrs[key] = sp.vstack([old, new], format="csr")
            prev = np.zeros(start, bool)
            known = self.title_read.get(key, prev)[:start]
            prev[: len(known)] = known
            self.title_read[key] = np.concatenate([prev, np.array([key in r for r in from_title], bool)])
        for i, p in enumerate(products):
            self.row_of[p.id] = start + i
        self.ids.extend(p.id for p in products)
        self.titles.extend(p.title for p in products)
        self.price = np.concatenate([self.price, price])
        self.in_stock = np.concatenate([self.in_stock, stock])
        self.created = np.concatenate([self.created, created])
        self.alive = np.concatenate([self.alive, np.ones(n, bool)])
        self.brand = np.concatenate([self.brand, brand])
        self.cat = np.concatenate([self.cat, cat])
        z = np.zeros(n, np.float32)
        self.popularity = np.concatenate([self.popularity, z])
        self.ctr = np.concatenate([self.ctr, z])
        self.conversion = np.concatenate([self.conversion, z])
        return np.arange(start, start + n)

    def delete(self, ids: Iterable[str]) -> int:
        """Mark rows dead; returns how many ids were live."""
        n = 0
        for pid in ids:
            row = self.row_of.pop(pid, None)
            if row is not None and self.alive[row]:
                self.alive[row] = False
                n += 1
        return n

    def evidence_mask(self, key: str, rows: np.ndarray) -> np.ndarray:
        """Per row of `rows`: does its value for `key` say more than its title (the shop's own values and values read
        from a description)? A value extracted from the title repeats words the lexical and dense sides already score,
        and counting it again favoured the products the extractor happened to cover (Home Depot dev nDCG@10, hybrid
        with the default weight: 0.3950 without enrichment, 0.3885 with it while it counted; docs/attribute-extraction.md)."""
        read = self.title_read.get(key)  # kept as long as the table by append() and load()
        return np.ones(len(rows), bool) if read is None else ~read[rows]

    # ------------------------------------------------------------------ display
    def brand_of(self, row: int) -> str | None:
        c = int(self.brand[row])
        return self.brands.values[c] if c >= 0 else None

    def category_of(self, row: int) -> str | None:
        codes = self.cat[row][self.cat[row] >= 0]
        return self.cats.values[int(codes[-1])] if len(codes) else None

    def brands_of(self, rows: np.ndarray) -> list[str | None]:
        """`brand_of` of many rows at once."""
        values = self.brands.values
        return [values[c] if c >= 0 else None for c in self.brand[rows].tolist()]

    def categories_of(self, rows: np.ndarray) -> list[str | None]:
        """`category_of` of many rows at once: each row's last category code that is set (its deepest path)."""
        cat = self.cat[np.asarray(rows, np.int64)]
        if not len(cat):
            return []
        last = cat.shape[1] - 1 - np.argmax((cat >= 0)[:, ::-1], axis=1)
        codes = cat[np.arange(len(cat)), last]  # -1 where no code is set (argmax of all-False is 0: the last column, -1)
        values = self.cats.values
        return [values[c] if c >= 0 else None for c in codes.tolist()]

    def attribute_values(self, key: str, row: int) -> list[str]:
        m = self.attrs.get(key)
        if m is None:
            return []
        return [self.attr_vocab[key].values[c] for c in m.indices[m.indptr[row] : m.indptr[row + 1]]]

    # ------------------------------------------------------------------ filters
    def _category_code(self, path: str) -> tuple[int, int] | None:
        """(depth index, code) of a category path ('a > b', or 'a/b/c' as the importer accepts them); None if unknown."""
        parts = [p.strip() for p in path.split(">") if p.strip()]
        key = CAT_SEP.join(parts)
        code = self.cats.code.get(key)
        if code is None and ">" not in path and "/" in path:  # 'a/b/c' paths, as the importer accepts them
            parts = [p.strip() for p in path.split("/") if p.strip()]
            key = CAT_SEP.join(parts)
            code = self.cats.code.get(key)
        if code is None or not parts or len(parts) > MAX_DEPTH:
            return None
        return len(parts) - 1, code

    def category_mask(self, path: str) -> np.ndarray:
        """Rows whose category path starts with `path` ('a > b' matches 'a > b > c')."""
        got = self._category_code(path)
        return np.zeros(len(self), bool) if got is None else self.cat[:, got[0]] == got[1]

    def in_category(self, path: str, rows: np.ndarray) -> np.ndarray:
        """`category_mask(path)[rows]`, reading only those rows."""
        got = self._category_code(path)
        return np.zeros(len(rows), bool) if got is None else self.cat[rows, got[0]] == got[1]

    def filter_masks(self, filters: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
        """One boolean row mask per filter key (so facets can leave their own key out)."""
        masks: dict[str, np.ndarray] = {}
        for key, value in (filters or {}).items():
            if value is None:
                continue
            if key == "brand":
                vals = value if isinstance(value, list) else [value]
                codes = [self.brands.code[v] for v in vals if v in self.brands.code]
                masks[key] = np.isin(self.brand, codes)
            elif key == "category":
                vals = value if isinstance(value, list) else [value]
                masks[key] = np.logical_or.reduce([self.category_mask(v) for v in vals]) if vals else np.ones(len(self), bool)
            elif key == "price":
                if not isinstance(value, Mapping) or set(value) - {"min", "max", "below"}:
                    raise ValueError(f"filter 'price' must be an object with min, max (inclusive) and/or below (exclusive), got {value!r}")
                m = ~np.isnan(self.price)
                for bound, op in (("min", np.greater_equal), ("max", np.less_equal), ("below", np.less)):
                    if value.get(bound) is not None:
                        m &= op(self.price, float(value[bound]))
                masks[key] = m
            elif key == "in_stock":
                masks[key] = self.in_stock == bool(value) if value is not None else np.ones(len(self), bool)
            elif key.startswith("attributes."):
                attr = key.split(".", 1)[1]
                vals = value if isinstance(value, list) else [value]
                matrix = self.attrs.get(attr)
                voc = self.attr_vocab.get(attr)
                cols = [voc.code[str(v)] for v in vals if voc and str(v) in voc.code] if voc else []
                masks[key] = (np.asarray(matrix[:, cols].sum(axis=1)).ravel() > 0) if (matrix is not None and cols) else np.zeros(len(self), bool)
            elif key == "ids":
                vals = value if isinstance(value, list) else [value]
                mm = np.zeros(len(self), bool)
                mm[[self.row_of[v] for v in vals if v in self.row_of]] = True
                masks[key] = mm
            else:
                raise ValueError(f"unknown filter {key!r}: use brand, category, price, in_stock, attributes.NAME or ids")
        return masks

    # ------------------------------------------------------------------ facets
    def value_counts(self, facet: str, mask: np.ndarray, size: int) -> list[tuple[str, int]]:
        """Counts of a facet's values over rows in mask, most frequent first."""
        if facet == "brand":
            codes = self.brand[mask]
            counts = np.bincount(codes[codes >= 0], minlength=len(self.brands.values))
            values = self.brands.values
        elif facet == "category":
            # the level below the deepest shared prefix is what a shopper drills into
            counts = np.zeros(len(self.cats.values), np.int64)
            sub = self.cat[mask]
            for d in range(MAX_DEPTH):
                col = sub[:, d]
                counts += np.bincount(col[col >= 0], minlength=len(self.cats.values))
            values = self.cats.values
        elif facet == "in_stock":
            s = self.in_stock[mask]
            return [(v, c) for v, c in (("true", int(s.sum())), ("false", int((~s).sum()))) if c]
        elif facet.startswith("attributes."):
            attr = facet.split(".", 1)[1]
            m = self.attrs.get(attr)
            if m is None:
                return []
            counts = np.asarray(m.T @ mask.astype(np.float32)).ravel().astype(np.int64)
            values = self.attr_vocab[attr].values
        else:
            raise ValueError(f"unknown facet {facet!r}")
        nz = np.flatnonzero(counts)
        order = nz[np.lexsort((nz, -counts[nz]))][:size]
        return [(values[i], int(counts[i])) for i in order]

    def price_edges(self) -> list[float]:
        """Rounded quantile edges of the catalog's prices (5 buckets)."""
        p = self.price[~np.isnan(self.price) & self.alive]
        if not len(p):
            return []
        qs = np.quantile(p, [0.2, 0.4, 0.6, 0.8])
        edges: list[float] = []
        for q in qs:
            mag = 10 ** max(0, int(np.floor(np.log10(max(q, 1)))) - 0)
            e = float(np.round(q / mag) * mag) if q >= 10 else float(np.round(q))
            if e > 0 and (not edges or e > edges[-1]):
                edges.append(e)
        return edges

    def price_counts(self, mask: np.ndarray, edges: Sequence[float]) -> list[tuple[float | None, float | None, int]]:
        """Counts per price bucket [lo, hi) over rows in mask."""
        p = self.price[mask]
        p = p[~np.isnan(p)]
        bounds = [None, *edges, None]
        idx = np.searchsorted(np.asarray(edges, np.float64), p, side="right")
        counts = np.bincount(idx, minlength=len(edges) + 1)
        return [(bounds[i], bounds[i + 1], int(counts[i])) for i in range(len(edges) + 1)]

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> None:
        """Arrays as .npy, vocabularies and ids as JSON."""
        path.mkdir(parents=True, exist_ok=True)
        for name in ("price", "in_stock", "created", "alive", "brand", "cat", "popularity", "ctr", "conversion"):
            np.save(path / f"{name}.npy", getattr(self, name))
        for i, m in enumerate(self.attrs.values()):
            safe = f"attr_{i}"
            np.save(path / f"{safe}.indptr.npy", m.indptr)
            np.save(path / f"{safe}.indices.npy", m.indices)
        for i, key in enumerate(self.attrs):
            read = self.title_read.get(key)
            np.save(path / f"attr_{i}.title_read.npy", np.flatnonzero(read) if read is not None else np.zeros(0, np.int64))
        meta = {
            "ids": self.ids,
            "titles": self.titles,
            "brands": self.brands.values,
            "cats": self.cats.values,
            "attrs": {
                key: {"values": self.attr_vocab[key].values, "file": f"attr_{i}"}
                for i, key in enumerate(self.attrs)
            },
        }
        (path / "table.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> ProductTable:
        """Read what save() wrote."""
        t = cls()
        meta = json.loads((path / "table.json").read_text())
        t.ids = meta["ids"]
        t.titles = meta["titles"]
        for name in ("price", "in_stock", "created", "alive", "brand", "cat", "popularity", "ctr", "conversion"):
            setattr(t, name, np.load(path / f"{name}.npy"))
        t.row_of = {pid: i for i, pid in enumerate(t.ids) if t.alive[i]}
        t.brands = _Vocab(meta["brands"])
        t.cats = _Vocab(meta["cats"])
        for key, am in meta["attrs"].items():
            indptr = np.load(path / f"{am['file']}.indptr.npy")
            indices = np.load(path / f"{am['file']}.indices.npy")
            t.attr_vocab[key] = _Vocab(am["values"])
            t.attrs[key] = sp.csr_matrix(
                (np.ones(len(indices), np.float32), indices, indptr), shape=(len(t.ids), len(am["values"]))
            )
            read_file = path / f"{am['file']}.title_read.npy"
            t.title_read[key] = np.zeros(len(t.ids), bool)
            if read_file.exists():  # tables saved before title_read was kept count every value as evidence
                t.title_read[key][np.load(read_file)] = True
        return t
