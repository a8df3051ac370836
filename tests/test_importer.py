"""Bulk import: formats, errors that name file/line/field, skip reports, idempotent replays, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shopmind.engine import ShopMind
from shopmind.importer import ImportFailed, read_csv

BIN = Path(sys.executable).parent / "shopmind"


def _beauty_events(shared_data: Path, users: int) -> list[dict]:
    """Real purchase sequences (Amazon Beauty) as events, one day apart per step."""
    out = []
    with open(shared_data / "seqrec" / "Beauty.txt") as fh:
        for n, line in enumerate(fh):
            if n >= users:
                break
            user, *items = line.split()
            for step, item in enumerate(items):
                out.append({"id": f"b-{user}-{step}", "type": "purchase", "user_id": f"u{user}", "item_id": f"i{item}", "timestamp": 1_400_000_000 + step * 86400})
    return out


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.fixture
def shop(tmp_path):
    s = ShopMind.open(tmp_path / "shop")
    yield s
    s.close()


@pytest.mark.integration
def test_demo_files_in_three_formats(shop, demo_data):
    assert shop.import_file("products", demo_data / "products.jsonl").stored == 1682
    assert shop.import_file("users", demo_data / "users.csv").stored == 943
    report = shop.import_file("events", demo_data / "events.parquet")
    assert report.stored == 155_375 and report.rejected == 0
    assert shop.catalog.get("m1").title == "Toy Story"
    assert shop.users.get("u1").attributes == {"age": "24", "gender": "M", "occupation": "technician", "zip": "85711"}


def test_replaying_a_file_adds_nothing(shop, tmp_path, shared_data):
    path = _write_jsonl(tmp_path / "ev.jsonl", _beauty_events(shared_data, 300))
    first = shop.import_file("events", path, batch_size=500)
    second = shop.import_file("events", path, batch_size=700)
    assert first.stored == first.read > 1000
    assert second.stored == 0 and second.duplicates == second.read
    assert shop.stats()["events"] == first.stored


def test_events_without_ids_are_idempotent_too(shop, tmp_path, shared_data):
    records = [{k: v for k, v in r.items() if k != "id"} for r in _beauty_events(shared_data, 50)]
    path = _write_jsonl(tmp_path / "noid.jsonl", records)
    shop.import_file("events", path)
    shop.import_file("events", path)
    assert shop.stats()["events"] == len(records)


def test_fail_names_file_line_field_and_keeps_earlier_batches(shop, tmp_path, shared_data):
    records = _beauty_events(shared_data, 100)[:250]
    records[120]["type"] = "teleport"
    records[130].pop("item_id")
    path = _write_jsonl(tmp_path / "bad.jsonl", records)
    with pytest.raises(ImportFailed) as info:
        shop.import_file("events", path, batch_size=100)
    report = info.value.report
    assert f"{path}:121: type:" in str(report.errors[0])
    assert any(e.line == 131 and "item_id" in e.message for e in report.errors)
    assert "121" in str(info.value)
    assert shop.stats()["events"] == 100  # batch 1 committed, the failing batch 2 stored nothing
    assert shop.store.list_imports()[0]["status"] == "failed"


def test_skip_reports_rejected_rows_and_keeps_the_good(shop, tmp_path, shared_data):
    records: list = _beauty_events(shared_data, 40)
    records[3]["timestamp"] = "yesterday-ish"
    records[7]["quantity"] = 0
    path = tmp_path / "mixed.jsonl"
    _write_jsonl(path, records)
    with open(path, "ab") as fh:
        fh.write(b"{not json\n")
    report_file = tmp_path / "rejected.jsonl"
    report = shop.import_file("events", path, on_error="skip", report_path=report_file)
    assert report.rejected == 3 and report.stored == len(records) - 2
    rows = [orjson.loads(line) for line in report_file.read_bytes().splitlines()]
    assert {(r["line"], r["field"]) for r in rows} == {(4, "timestamp"), (8, "quantity"), (len(records) + 1, "(line)")}
    assert rows[0]["record"]["timestamp"] == "yesterday-ish"


def test_csv_products_with_paths_json_cells_and_bad_price(shop, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "id,title,brand,category,price,currency,stock,attributes,attributes.color\n"
        'h1,"Simpson Strong-Tie 12-Gauge Angle",Simpson,"Hardware > Brackets",4.98,usd,12,"{""material"": ""steel""}",silver\n'
        "h2,BEHR Premium Textured DeckOver,BEHR,Paint,-3,USD,,,\n"
        "h3,,,,,,,,\n",
        encoding="utf-8",
    )
    report = shop.import_file("products", path, on_error="skip", report_path=tmp_path / "r.jsonl")
    assert report.stored == 1 and report.rejected == 2
    errors = {(e.line, e.field) for e in report.errors}
    assert errors == {(3, "price"), (4, "title")}
    p = shop.catalog.get("h1")
    assert p.category == ["Hardware", "Brackets"] and p.currency == "USD" and p.in_stock is True
    assert p.attributes == {"material": "steel", "color": "silver"}


def test_csv_short_row_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,title\na,b,c\n", encoding="utf-8")
    (line, value), = list(read_csv(path))
    assert line == 2 and isinstance(value, ValueError)


def test_parquet_events(shop, tmp_path, shared_data):
    records = _beauty_events(shared_data, 80)
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "ev.parquet")
    assert shop.import_file("events", tmp_path / "ev.parquet").stored == len(records)


@pytest.mark.integration
def test_kill_during_import_leaves_committed_batches(tmp_path, shared_data):
    """kill -9 mid-import: the store opens and holds exactly the batches the checkpoint says."""
    records = _beauty_events(shared_data, 22_363)
    path = _write_jsonl(tmp_path / "big.jsonl", records)
    home = tmp_path / "shop"
    env = {**os.environ, "SHOPMIND_HOME": str(home)}
    proc = subprocess.Popen([str(BIN), "import", "events", str(path), "--batch-size", "2000"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    shop = ShopMind.open(home)
    deadline = time.time() + 60
    while time.time() < deadline:
        rows = shop.store.list_imports()
        if rows and rows[0]["records_committed"] >= 6000:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    shop.close()
    shop = ShopMind.open(home)
    run = shop.store.list_imports()[0]
    assert run["status"] == "running"  # it never finished
    assert 0 < run["records_committed"] < len(records)
    assert shop.stats()["events"] == run["records_committed"]
    again = shop.import_file("events", path)  # resuming = replaying: duplicates are skipped
    assert shop.stats()["events"] == len(records)
    assert again.duplicates == again.read - (len(records) - run["records_committed"])
    shop.close()


@pytest.mark.integration
def test_worker_processes_give_the_same_result(tmp_path, shared_data):
    """The multi-process JSONL path stores, rejects and reports exactly like the in-process one."""
    records: list = _beauty_events(shared_data, 400)
    records[10]["type"] = "teleport"
    records[500]["quantity"] = -1
    path = tmp_path / "ev.jsonl"
    _write_jsonl(path, records)
    with open(path, "ab") as fh:
        fh.write(b"\n{broken\n")
    results = []
    for workers in (1, 2):
        shop = ShopMind.open(tmp_path / f"shop{workers}")
        rep = shop.import_file("events", path, on_error="skip", batch_size=700, workers=workers, report_path=tmp_path / f"r{workers}.jsonl")
        results.append(((rep.read, rep.stored, rep.rejected, rep.lines_committed), sorted((e.line, e.field) for e in rep.errors), shop.stats()["events"]))
        with pytest.raises(ImportFailed) as info:
            ShopMind.open(tmp_path / f"fail{workers}").import_file("events", path, batch_size=700, workers=workers)
        results.append(str(info.value).split(" stopped at ")[1].split(";")[0])
        shop.close()
    assert results[0] == results[2] and results[1] == results[3]
    assert results[0][0][2] == 3 and results[0][2] == len(records) - 2
