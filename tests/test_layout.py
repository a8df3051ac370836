"""The code's shape: no module in src/ over 400 lines (data files aside), and the layer contracts hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "shopmind"
MAX_LINES = 400


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (limit {MAX_LINES} lines): {long}"


def test_import_layers_hold() -> None:
    """import-linter's contracts (pyproject.toml): layers, the store at the bottom, evaluation on top, thin skins."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists() and shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[lint]')")
    root = SRC.parents[1]
    done = subprocess.run([str(exe) if exe.exists() else "lint-imports"], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
