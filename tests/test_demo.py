"""``synth demo`` end to end on a few examples: compile, train until exact, perform every
test through the network, and every neural run matches its reference."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from isa.base import SynthError
from neural.demo import DemoConfig, format_report, run_demo


def test_demo_on_a_few_examples_matches_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_demo(DemoConfig(programs=["add", "gcd", "count_ones", "max_of_two"], max_train_steps=2000))
    assert report.exact
    assert len(report.rows) >= 8 and report.matched == len(report.rows)
    text = format_report(report)
    assert "gcd" in text and f"{len(report.rows)} of {len(report.rows)} test runs" in text


def test_demo_command_exit_status_table_and_record(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    record = tmp_path / "demo.json"
    code = main(["demo", "--programs", "negate,subtract", "--isa", "subleq", "--record", str(record)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == ["program", "description", "test", "neural", "reference", "match"]
    assert "negate" in out and "subtract" in out
    summary = json.loads(record.read_text())
    runs = len(out.split("\n\n")[0].splitlines()) - 2  # the table less its header and rule
    assert summary["command"] == f"synth demo --programs negate,subtract --isa subleq --record {record}"
    assert (summary["isa"], summary["backbone"], summary["programs"], summary["exact"]) == ("subleq", "mlp", 2, True)
    assert summary["runs"] == summary["matched"] == runs and summary["programs_matched"] == 2 and summary["failed"] == []
    assert summary["descriptions"] == 4  # two of each program's


def test_demo_refuses_unknown_programs() -> None:
    with pytest.raises(SynthError, match="no such example: nope"):
        run_demo(DemoConfig(programs=["nope"]))


def test_demo_trains_on_the_first_descriptions_it_is_told() -> None:
    from neural.demo import compile_examples

    every, _ = compile_examples(DemoConfig(programs=["gcd", "add"], descriptions=0))
    assert all(len(p.descriptions) >= 8 for p in every)  # the library's paraphrases
    first, _ = compile_examples(DemoConfig(programs=["gcd", "add"]))  # the default: two
    assert [p.descriptions for p in first] == [p.descriptions[:2] for p in every]
    gcd = next(p for p in every if p.name == "gcd")
    one, _ = compile_examples(DemoConfig(programs=["gcd"], descriptions=1))
    assert one[0].descriptions == gcd.descriptions[:1]
