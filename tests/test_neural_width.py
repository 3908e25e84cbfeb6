"""synth experiment width (neural/experiments/width.py): the descent over widths, its record,
resuming, the bound, and one real tiny run."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from neural.experiments import memorize, width


def test_bound_is_k_n_plus_n_N():
    assert width.bound(16, 256) == 256 * 256 + 256 * 16
    assert width.bound(3, 10, k=7) == 7 * 10 + 10 * 3


def fake_trials(monkeypatch, needs: dict[int, int], calls: list):
    """N programs are memorised at width W iff W >= needs[N]; 10 W parameters."""

    def run_trial(programs, length, seed, config, partial=None):
        calls.append((programs, config.hidden_size, seed))
        exact = config.hidden_size >= needs[programs]
        return memorize.Trial(programs, seed, 100 + config.hidden_size if exact else None, 1.0,
                              parameters=10 * config.hidden_size)

    monkeypatch.setattr(memorize, "run_trial", run_trial)


def test_descent_stops_at_the_first_failing_width_and_resumes(tmp_path, capsys, monkeypatch):
    calls: list = []
    fake_trials(monkeypatch, {2: 16, 3: 64, 4: 300}, calls)
    argv = ["experiment", "width", "--programs", "2,3,4", "--length", "8", "--widths", "16,64,8,32", "--seeds", "2",
            "--out", str(tmp_path / "w"), "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(r["programs"], r["smallest_width"], r["parameters"]) for r in rows] == [(2, 16, 160), (3, 64, 640), (4, None, None)]
    assert [r["bound"] for r in rows] == [8 * 8 + 8 * 2, 8 * 8 + 8 * 3, 8 * 8 + 8 * 4]
    assert rows[0]["steps_mean"] == 116
    # widest first; N=2 tries 64, 32, 16, 8 (fails at 8); N=3 stops at 32; N=4 fails at once
    assert [(n, w) for n, w, s in calls if s == 0] == [(2, 64), (2, 32), (2, 16), (2, 8), (3, 64), (3, 32), (4, 64)]
    written = json.loads((tmp_path / "w" / "width.json").read_text())
    assert written["command"].startswith("synth experiment width") and written["widths"] == [64, 32, 16, 8]
    assert (tmp_path / "w" / "width.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "w" / "w64" / "trials.jsonl").is_file()
    # every record's points in one plot against the bound (RESULTS.md's), a record with no exact width included
    nothing = {**written, "length": 9, "smallest": [{**s, "width": None, "parameters": None} for s in written["smallest"]]}
    width.plot_bound([written, nothing], tmp_path / "bound.png")
    assert (tmp_path / "bound.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    calls.clear()
    assert main(argv) == 0  # every trial recorded: nothing trained again
    assert calls == []
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == rows


@pytest.mark.parametrize("widths, message", [("64,a", "numbers separated by commas"), ("30", "multiple of 4")])
def test_bad_widths(tmp_path, capsys, widths, message):
    assert main(["experiment", "width", "--widths", widths, "--out", str(tmp_path / "w")]) == 2
    assert message in capsys.readouterr().err


def test_a_real_tiny_descent(tmp_path, capsys):
    (tmp_path / "tiny.toml").write_text('backbone = "mlp"\nlr = 0.005\n')
    assert main(["experiment", "width", "--programs", "2", "--length", "40", "--widths", "128", "--max-steps", "800",
                 "--config", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "w"), "--json", "--threads", "1"]) == 0
    [row] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["smallest_width"] == 128 and row["parameters"] > 0


def test_reuse_and_skip_failed_spend_no_run_twice(tmp_path, capsys, monkeypatch):
    """--reuse copies the exact runs of Experiment 1's records made under a width's recipe
    (with a larger step cap) instead of training them again, and --skip-failed does not try
    a width for more programs once it failed for fewer."""
    calls: list = []
    fake_trials(monkeypatch, {2: 16, 3: 32, 4: 32}, calls)
    table1 = tmp_path / "table1"
    wide = memorize.recipe(hidden_size=64, intermediate_size=256, num_heads=4, device="cpu", max_steps=50_000)
    memorize.record_trial(table1, memorize.Trial(4, 0, 640, 2.0, parameters=640), 8, wide)  # exact in 640 steps
    memorize.record_trial(table1, memorize.Trial(3, 0, 9_000, 2.0, parameters=640), 8, wide)  # past this cap: not reused
    argv = ["experiment", "width", "--programs", "2,3,4", "--length", "8", "--widths", "64,32,16,8", "--max-steps", "1000",
            "--reuse", str(table1), "--skip-failed", "--out", str(tmp_path / "w"), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out.strip().splitlines()[-1])
    assert [(r["programs"], r["smallest_width"]) for r in rows] == [(2, 16), (3, 32), (4, 32)]
    # N=2 descends to 8, which fails; N=3 fails at 16; N=4: width 64 comes from the Table 1 record, 32 is trained
    # (exact), and 16, not exact for N=3, is not tried.
    assert (4, 64, 0) not in calls and "exact after 640 steps" in captured.err and "(reused)" in captured.err
    assert [(n, w) for n, w, _ in calls] == [(2, 64), (2, 32), (2, 16), (2, 8), (3, 64), (3, 32), (3, 16), (4, 32)]
    assert "N=4 width 16: not tried (not exact for N=3)" in captured.err
    table = json.loads((tmp_path / "w" / "width.json").read_text())
    assert "16 (not tried: not exact for N = 3)" in width.markdown(table)
    reused = [json.loads(line) for line in (tmp_path / "w" / "w64" / "trials.jsonl").read_text().splitlines()]
    assert [(r["programs"], r["steps"], r["from"]) for r in reused if "from" in r] == [(4, 640, str(table1))]
    assert main(["experiment", "width", "--reuse", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    assert "no such directory of recorded runs" in capsys.readouterr().err
    # a width already recorded for N is shown as recorded, not as skipped
    fake_trials(monkeypatch, {2: 32, 3: 32, 5: 64}, calls)
    argv2 = ["experiment", "width", "--programs", "2,3", "--length", "8", "--widths", "64,32,16", "--max-steps", "1000",
             "--out", str(tmp_path / "v"), "--json"]
    assert main(argv2) == 0  # without --skip-failed: 16 is tried (and fails) for N=3 too
    calls.clear()
    assert main([*argv2[:3], "2,3,5", *argv2[4:], "--skip-failed"]) == 0
    assert calls == [(5, 64, 0), (5, 32, 0)]  # only N=5 trains; 32 had never failed, so it is tried
    table = json.loads((tmp_path / "v" / "width.json").read_text())
    assert [(r["width"], r["exact"], r.get("skipped")) for r in table["rows"] if r["programs"] == 3] == [
        (64, True, None), (32, True, None), (16, False, None)]  # recorded, so shown as measured
