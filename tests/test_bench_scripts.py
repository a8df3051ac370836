"""Every bench script imports and parses its arguments, and a missing optional package is one clear line naming
the extra to install (never a traceback): `make bench` runs them all after `make test`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (REPO / "bench").glob("*.py") if not p.name.startswith("_"))


def _env(extra_path: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (extra_path, REPO / "src") if p)}
    env.pop("SHOPMIND_HOME", None)
    return env


def test_there_are_bench_scripts():
    assert {"search.py", "recs.py", "assistant.py", "ads.py", "realtime.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.integration
def test_every_bench_script_imports_and_prints_its_help():
    """All at once (one process each, in parallel): `--help` imports the script's modules and exits 0."""
    procs = {p.name: subprocess.Popen([sys.executable, str(p), "--help"], cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for p in SCRIPTS}
    failed = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        if proc.returncode != 0 or "usage:" not in out:
            failed[name] = (proc.returncode, err[-800:])
    assert not failed, failed


@pytest.mark.integration
@pytest.mark.parametrize(("script", "hidden", "extra"), [("search.py", "rank_bm25", "bench"), ("recs.py", "torch", "seq")])
def test_a_missing_extra_is_named_not_a_traceback(tmp_path, script, hidden, extra):
    """The package is hidden by a stub that raises ImportError first on the path; the script must say what to install."""
    stub = tmp_path / hidden
    stub.mkdir()
    (stub / "__init__.py").write_text(f"raise ImportError('{hidden} hidden by the test')\n")
    args = ["--work", str(tmp_path / "work")] if script == "search.py" else ["--out", str(tmp_path / "out.json")]
    proc = subprocess.run([sys.executable, str(REPO / "bench" / script), *args], cwd=REPO, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"needs {hidden}" in proc.stderr and f"pip install -e '.[{extra}]'" in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "work").exists()
