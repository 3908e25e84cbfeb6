"""RESULTS.md and BENCHMARKS.md regenerate from results/ byte for byte: on a copy of the
repository, ``benchmarks/tables.sh`` rewrites every table between markers from the
records, and neither file changes. A table edited by hand, or a record changed without
rewriting its table, fails here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


SKIP = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "models", "partial", "out", "bin"}


def _repository_files() -> list[str]:
    """The tree's files: git's list in a checkout, else every file outside build, cache and model folders."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
        return [line for line in out.splitlines() if line and (REPO / line).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [str(p.relative_to(REPO)) for p in REPO.rglob("*")
                if p.is_file() and not SKIP & set(p.relative_to(REPO).parts[:-1])]


def _copy(tmp_path: Path) -> Path:
    """The working tree's files (tracked, or new and not ignored) in a fresh folder."""
    copy = tmp_path / "repo"
    for name in _repository_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    return copy


def test_every_table_regenerates_from_results(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    run = subprocess.run(["bash", "benchmarks/tables.sh"], cwd=copy, capture_output=True, text=True,
                         env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "PYTHON": sys.executable,
                              "HOME": str(tmp_path), "NUMBA_ENABLE_CUDASIM": "1"}, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    for doc in ("RESULTS.md", "BENCHMARKS.md"):
        assert (copy / doc).read_text() == (REPO / doc).read_text(), f"{doc} is not what results/ says: run bash benchmarks/tables.sh"


def test_a_table_edited_by_hand_is_rewritten(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    doc = copy / "RESULTS.md"
    text = doc.read_text()
    begin = text.index("<!-- describe-table:begin -->")
    doc.write_text(text[:begin] + text[begin:].replace("| ext |", "| ext (typed) |", 1))
    run = subprocess.run([sys.executable, "benchmarks/results_md.py", "--check"], cwd=copy, capture_output=True, text=True)
    assert run.returncode == 1 and "describe-table" in run.stderr
    subprocess.run([sys.executable, "benchmarks/results_md.py", "--write-md"], cwd=copy, check=True, capture_output=True)
    assert doc.read_text() == (REPO / "RESULTS.md").read_text()


def test_the_table1_note_says_which_runs_its_command_has_not_yet_covered(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    import results_md

    run = tmp_path / "memorize-cpu"
    run.mkdir()
    rec = {"length": 256, "steps": 300, "seconds": 1.0, "parameters": 10, "peak_memory_mb": 1.0}
    lines = [dict(rec, programs=16, seed=0), dict(rec, programs=64, seed=0)]
    (run / "trials.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    info = {"command": "synth experiment memorize --programs 16", "machine": "m", "date": "d",
            "rows": [{"programs": 16, "length": 256, "trials": [{"seed": 0}]}]}
    (run / "memorize.json").write_text(json.dumps(info))
    monkeypatch.setattr(results_md, "REPO", tmp_path)
    monkeypatch.setattr(results_md, "MEMORIZE_RUNS", {"CPU": run})
    table = results_md.memorize_table()
    assert "| CPU | 64 | 256 | 0 (so far) | 819 / 819 | 300 | 300 |" in table
    assert "| CPU | 16 | 256 | 0 | 204 / 204 | 300 | 300 |" in table  # its command's seed: finished
    assert "`synth experiment memorize --programs 16`" in table and "N = 64 not in its table" in table
    info["rows"].append({"programs": 64, "length": 256, "trials": [{"seed": 0}]})
    (run / "memorize.json").write_text(json.dumps(info))
    table = results_md.memorize_table()
    assert "not in its table" not in table and "(so far)" not in table
