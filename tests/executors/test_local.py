"""The executor contract in process: the registry, deferred calls, shipped files, and embeddings encoded as tasks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.executors import EXECUTORS, LocalExecutor, open_executor
from shopmind.executors.base import collect_files, run_task, write_files
from shopmind.executors.embed import product_vectors
from shopmind.text.embedstore import EmbeddingStore
from shopmind.text.product_text import product_texts
from tests.executors.conftest import TinyEncoder


class Inline:
    """A distributed executor's contract, run here: tasks go through `run_task`, files are shipped back as bytes."""

    in_process = False

    def __init__(self, url: str = "inline") -> None:
        self.url, self.calls = url, 0

    def submit(self, fn, args, *, out_dir=None):
        self.calls += 1
        value, files = run_task(fn, 1, out_dir is not None, *args)

        class Done:
            def result(self):
                if files is not None:
                    write_files(out_dir, files)
                return value

            def cancel(self):
                pass

        return Done()

    def starmap(self, fn, args, *, out_dir=None):
        return [self.submit(fn, a, out_dir=out_dir).result() for a in args]

    def close(self) -> None:
        pass


def _write(out_dir: Path, name: str, text: str) -> int:
    (out_dir / "sub").mkdir(parents=True, exist_ok=True)
    (out_dir / "sub" / name).write_text(text)
    return len(text)


def test_the_registry_names_the_backends_and_refuses_unknown_ones():
    with open_executor(None) as ex:
        assert isinstance(ex, LocalExecutor) and ex.in_process
    assert {"local", "auto", "ray"} <= set(EXECUTORS)
    with pytest.raises(ValueError, match="'spark://x' is not known"), open_executor("spark://x"):
        pass


def test_local_calls_run_when_asked_and_write_into_the_folder(tmp_path):
    ex = LocalExecutor()
    pending = ex.submit(_write, ("a.txt", "hello"), out_dir=tmp_path)
    assert not (tmp_path / "sub").exists()  # deferred: a local build keeps its order
    assert pending.result() == 5 and (tmp_path / "sub" / "a.txt").read_text() == "hello"
    assert ex.starmap(_write, [("b.txt", "x"), ("c.txt", "yz")], out_dir=tmp_path) == [1, 2]
    assert ex.starmap(len, [("abc",), ("",)]) == [3, 0]


def test_a_task_ships_its_files_and_nothing_escapes_the_folder(tmp_path):
    value, files = run_task(_write, 1, True, "a.txt", "hi")
    assert value == 2 and files == {"sub/a.txt": b"hi"}
    write_files(tmp_path, files)
    assert collect_files(tmp_path) == files
    with pytest.raises(ValueError, match="outside the version folder"):
        write_files(tmp_path / "v1", {"../escape.txt": b"x"})
    assert not (tmp_path / "escape.txt").exists()


def test_new_texts_are_encoded_by_tasks_in_the_in_process_batches(tmp_path, demo_data):
    import orjson

    from shopmind.domain import Product

    products = [Product.model_validate(orjson.loads(line)) for line in (demo_data / "products.jsonl").read_bytes().splitlines()[:30]]
    here = EmbeddingStore(TinyEncoder, name="tiny-test", dim=16, cache_dir=tmp_path / "a", batch=8)
    there = EmbeddingStore(TinyEncoder, name="tiny-test", dim=16, cache_dir=tmp_path / "b", batch=8)
    expected = here.product_vectors(products)
    ex = Inline()
    got = product_vectors(there, products, ex)
    assert ex.calls == 4  # 30 distinct texts in batches of 8
    np.testing.assert_array_equal(got, expected)
    assert there.encoded == 30 and len(there) == 30
    again = product_vectors(there, products, ex)  # the cache is warm: no task, nothing encoded
    assert ex.calls == 4 and there.encoded == 30
    np.testing.assert_array_equal(again, expected)
    keys, texts = there.missing([*product_texts(products), "a new text"])
    assert texts == ["a new text"] and len(keys) == 1


def test_the_cli_refuses_a_ray_address_it_cannot_use(tmp_path):
    from typer.testing import CliRunner

    from shopmind.cli.main import app

    result = CliRunner().invoke(app, ["build", "--home", str(tmp_path / "home"), "--ray", "spark://x"])
    assert result.exit_code == 2 and "--ray takes 'auto' or ray://HOST:PORT" in result.output
    assert not (tmp_path / "home").exists()  # refused before opening the shop
