"""``synth demo`` end to end on a few examples: compile, train until exact, perform every
test through the network, and every neural run matches its reference."""

from __future__ import annotations

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


def test_demo_command_exit_status_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--programs", "negate,subtract", "--isa", "subleq"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split() == ["program", "description", "test", "neural", "reference", "match"]
    assert "negate" in out and "subtract" in out


def test_demo_refuses_unknown_programs() -> None:
    with pytest.raises(SynthError, match="no such example: nope"):
        run_demo(DemoConfig(programs=["nope"]))
