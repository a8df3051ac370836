"""Readers of the three labelled formats on real lines, and the fixed MEPAVE split."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest

from shopmind.understand.datasets import mepave_part, parse_line, read_offers

MEPAVE = "ecomgpt/data__ecom_instruct_v1__MEPAVE__tasks__ZH-MEPAVE-NER-attribute_value_extraction__test.json"


def test_formats(shared_data: Path) -> None:
    oa = next(read_offers(shared_data / "extraction/extractgpt/oa-mine/train.jsonl"))
    assert oa.fmt == "extractgpt" and oa.category and oa.gold and not oa.description
    wdc = next(read_offers(shared_data / "extraction/wdc-pave/wdc_with_all_attributes/train.jsonl"))
    assert wdc.fmt == "wdc" and wdc.description and any(v == ["n/a"] for v in wdc.gold.values())
    zh = list(read_offers(shared_data / MEPAVE))
    assert len(zh) == 500 and zh[0].language == "zh"
    assert all(len(o.gold) >= 20 for o in zh)  # every label of the set is a slot; absent ones are n/a
    test = list(read_offers(shared_data / MEPAVE, part="test"))
    train = list(read_offers(shared_data / MEPAVE, part="train"))
    assert len(test) + len(train) == 500 and 100 < len(test) < 200
    assert all(mepave_part(o.title) == "test" for o in test) and all(mepave_part(o.title) == "train" for o in train)


def test_bad_records_name_the_line(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    lines = list(islice((shared_data / "extraction/extractgpt/ae-110k/train.jsonl").open(encoding="utf-8"), 2))
    bad.write_text(lines[0] + '{"input": ""}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl line 2: 'input'"):
        list(read_offers(bad))
    with pytest.raises(ValueError, match="unknown record"):
        parse_line({"title": "x"}, "row 1")
