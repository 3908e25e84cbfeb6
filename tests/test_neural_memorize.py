"""Experiment 1 (neural/experiments/memorize.py, synth experiment memorize) at a tiny size:
the command line contract, the table, and resuming from the recorded runs."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from neural.experiments import memorize

TINY = """backbone = "mlp"
hidden_size = 128
intermediate_size = 256
lr = 0.005
"""


def run_cli(tmp_path, capsys, *extra: str) -> tuple[int, str, str]:
    (tmp_path / "tiny.toml").write_text(TINY)
    code = main(["experiment", "memorize", "--programs", "2,3", "--length", "40", "--seeds", "1", "--check-every", "5",
                 "--max-steps", "800", "--config", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "out"),
                 "--json", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_memorize_cli_contract_and_resume(tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(tmp_path, capsys)
    assert code == 0, err
    rows = json.loads(out.strip().splitlines()[-1])
    assert [set(r) for r in rows] == [{"programs", "length", "batch_size", "steps_mean", "steps_std", "seconds_mean"}] * 2
    assert [(r["programs"], r["length"], r["batch_size"]) for r in rows] == [(2, 40, 4), (3, 40, 6)]
    assert (tmp_path / "out" / "memorize.md").read_text().startswith("| programs |")
    written = json.loads((tmp_path / "out" / "memorize.json").read_text())
    assert [len(r["trials"]) for r in written["rows"]] == [1, 1]
    assert all(t["steps"] is not None and t["steps"] % 5 == 0 for r in written["rows"] for t in r["trials"])  # at checks
    recorded = (tmp_path / "out" / memorize.TRIALS).read_text().splitlines()
    assert len(recorded) == 2

    # Interrupted in the middle of a line: the cut line is ignored, the recorded runs are reused.
    (tmp_path / "out" / memorize.TRIALS).write_text(recorded[0] + "\n" + recorded[1][:20])
    trained = []
    real = memorize.run_trial
    monkeypatch.setattr(memorize, "run_trial", lambda *a: trained.append(a[:3]) or real(*a))
    code, out, err = run_cli(tmp_path, capsys)
    assert code == 0, err
    assert trained == [(3, 40, 0)]  # only the run whose line was cut
    assert err.count("recorded in") == 1
    assert json.loads(out.strip().splitlines()[-1])[0] == rows[0]

    # Another recipe: refused, unless --restart.
    (tmp_path / "out" / "other.toml").write_text(TINY.replace("0.005", "0.004"))
    assert main(["experiment", "memorize", "--programs", "2", "--length", "8", "--seeds", "1", "--config",
                 str(tmp_path / "out" / "other.toml"), "--out", str(tmp_path / "out")]) == 2
    assert "another recipe" in capsys.readouterr().err
    trained.clear()
    code, out, err = run_cli(tmp_path, capsys, "--restart")
    assert code == 0, err
    assert len(trained) == 2 and "recorded in" not in err

    # Seeds the recipe never saw: --first-seed 5 trains seed 5 beside the recorded seed 0.
    trained.clear()
    code, out, err = run_cli(tmp_path, capsys, "--first-seed", "5", "--programs", "2")
    assert code == 0, err
    assert trained == [(2, 40, 5)]
    seeds = [json.loads(line)["seed"] for line in (tmp_path / "out" / memorize.TRIALS).read_text().splitlines()]
    assert sorted(seeds) == [0, 0, 5]
    written = json.loads((tmp_path / "out" / "memorize.json").read_text())
    assert written["command"].startswith("synth experiment memorize ") and "--first-seed 5" in written["command"]


@pytest.mark.parametrize("args, message", [
    (["--programs", "0"], "positive"),
    (["--programs", "a,b"], "numbers separated by commas"),
    (["--seeds", "0"], "at least 1"),
    (["--check-every", "30"], "at least every 25 steps"),
])
def test_memorize_bad_arguments(tmp_path, capsys, args, message):
    assert main(["experiment", "memorize", "--length", "8", "--out", str(tmp_path / "o"), *args]) == 2
    assert message in capsys.readouterr().err


def test_memorize_garbled_record_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / memorize.TRIALS).write_text('{"nope": 1}\n{"x"\n')
    assert main(["experiment", "memorize", "--programs", "2", "--length", "8", "--seeds", "1",
                 "--out", str(tmp_path / "o")]) == 2
    assert "not a recorded run" in capsys.readouterr().err
