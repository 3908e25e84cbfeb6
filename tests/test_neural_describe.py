"""Programs from descriptions (neural/experiments/describe*.py): the folds, the scoring rules
against answers worked out by hand, the baselines, and the command end to end at a tiny size."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import REPO

from cli.main import main
from neural.experiments import describe, describe_data, describe_score

EXAMPLES = REPO / "examples"
PROGRAMS = ("add", "negate", "max_of_two", "is_zero")


def test_folds_hold_every_paraphrase_out_exactly_once():
    programs, skipped = describe_data.example_programs(EXAMPLES, "ext", PROGRAMS)
    assert [p.name for p in programs] == sorted(PROGRAMS) and skipped == []
    pool = describe_data.pools(programs, describe_data.load_paraphrases(EXAMPLES / "heldout_paraphrases.json"))
    assert all(len(pool[p.name]) == len(p.descriptions) + 2 for p in programs)  # .desc lines + the two new ones
    folds = describe_data.make_folds(programs, pool, 5, seed=3)
    held = [t for f in folds for _, t in f.held]
    assert sorted(held) == sorted(t for texts in pool.values() for t in texts)  # each once
    for f in folds:
        for p in f.train:
            mine = {t for name, t in f.held if name == p.name}
            assert not mine & set(p.descriptions) and len(mine) + len(p.descriptions) == len(pool[p.name])
    assert describe_data.make_folds(programs, pool, 5, seed=3)[2].held == folds[2].held  # seeded
    assert describe_data.make_folds(programs, pool, 5, seed=4)[2].held != folds[2].held


def test_calibration_rule():
    own = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    other = np.array([0.1, 0.2, 0.3, 0.4, 0.45])
    # halfway between the 0th quantile of own (0.5) and the 100th of other (0.45)
    assert describe_score.calibrate(own, other, 0.0) == pytest.approx(0.475)
    assert describe_score.calibrate(own, other, 0.25) == pytest.approx((0.6 + 0.4) / 2)


def test_word_overlap_baseline_against_known_answers():
    train = {"add": ["add two numbers", "the sum of a and b"], "negate": ["negate a number", "flip the sign"],
             "is_zero": ["is it zero", "test for zero", "zero or not"]}
    scores = describe_score.word_scores(train)(["sum two numbers", "is the number zero", "hello there"])
    assert scores.shape == (3, 3)
    assert scores[0].argmax() == 0 and scores[0, 0] == pytest.approx(2 / 4)  # {sum, two, numbers} vs {add, two, numbers}
    assert scores[1].argmax() == 2 and scores[1, 2] == pytest.approx(2 / 5)  # {is, the, number, zero} vs {is, it, zero}
    assert scores[2].max() == 0.0
    rates = describe_score.score_baseline(describe_score.word_scores, train,
                                          [("add", "sum two numbers"), ("negate", "the sign flip")], ["hello there"], 0.1)
    assert rates["heldout"] == 2 and rates["top1"] == 2 and rates["off_topic_refused"] == 1


def test_rates_count_what_they_say():
    Item = describe_score.Item
    items = [Item("heldout", "add", "a", "add", "add", 0.9, True), Item("heldout", "add", "b", "negate", "negate", 0.8, False),
             Item("heldout", "negate", "c", None, "negate", 0.1, False), Item("heldout", "negate", "d", "negate", "negate", 0.7, False),
             Item("off_topic", None, "e", None, "add", 0.2, True), Item("off_topic", None, "f", "add", "add", 0.9, False)]
    r = describe_score.rates(items)
    assert r == {"heldout": 4, "right": 1, "top1": 3, "accepted": 3, "accepted_wrong": 2, "off_topic": 2, "off_topic_refused": 1}


TINY = """num_layers = 1
hidden_size = 64
intermediate_size = 128
num_heads = 2
encoder_epochs = 8
max_steps = 800
"""


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    base = tmp_path_factory.mktemp("describe")
    (base / "tiny.toml").write_text(TINY)
    (base / "off.txt").write_text("what's the weather like tomorrow\ntell me a joke\na charming and often affecting journey .\n")
    argv = ["experiment", "describe", "--isa", "ext", "--backbone", "scratch", "--folds", "3", "--programs", ",".join(PROGRAMS),
            "--config", str(base / "tiny.toml"), "--off-topic", str(base / "off.txt"), "--out", str(base / "out"), "--json"]
    return base, argv


def test_the_command_end_to_end_and_resumed(outcome, capsys):
    base, argv = outcome
    assert main(argv) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out.strip().splitlines()[-1])
    assert [r["backbone"] for r in rows] == ["scratch", "word-overlap", "embedding-nn"]
    paraphrases = sum(len(re.findall(r'^\.desc "', (EXAMPLES / f"{name}.sasm").read_text(), re.M)) + 2 for name in PROGRAMS)
    for r in rows:
        assert r["folds"] == 3 and r["heldout"] == paraphrases and r["off_topic"] == 3
        assert set(r) >= {"right", "top1", "off_topic_refused", "accepted_wrong"}
    assert rows[0]["training_exact"].split("/")[0] == rows[0]["training_exact"].split("/")[1]  # the check holds
    records = [json.loads(line) for line in (base / "out" / "trials.jsonl").read_text().splitlines()]
    assert len(records) == 9
    scratch = [r for r in records if r["backbone"] == "scratch"]
    assert all(r["exact"] and r["calibration"]["threshold"] is not None for r in scratch)
    assert all(len(r["items"]) == r["heldout"] + r["off_topic"] for r in scratch)
    table = json.loads((base / "out" / "describe.json").read_text())
    assert table["experiment"] == "describe" and table["rows"] == rows
    assert (base / "out" / "describe.md").read_text().startswith("| ISA | model |")
    assert not list((base / "out" / "models").glob(".fold-*"))  # fold models are not kept
    assert main(argv) == 0  # again: every fold is recorded
    assert capsys.readouterr().err.count("(recorded)") == 9


def test_bad_arguments(capsys, tmp_path):
    for extra, message in ((["--isa", "classic"], "ISAs with static code"), (["--folds", "1"], "at least 2"),
                           (["--backbone", "mlp"], "--backbone 'mlp'")):
        assert main(["experiment", "describe", "--out", str(tmp_path / "o"), *extra]) == 2
        assert message in capsys.readouterr().err
    assert describe.TARGETS["right"] == 0.90


def test_backbones_may_be_run_one_at_a_time_into_one_out():
    """The recorded key holds every backbone's recipe, whichever ones a run trains, so that
    `--backbone pretrained` and a later `--backbone scratch` share one OUT; a changed recipe
    of either still tells the records apart."""
    both = describe.DescribeConfig(backbones=("scratch", "pretrained")).key()
    assert describe.DescribeConfig(backbones=("pretrained",)).key() == both
    assert describe.DescribeConfig(backbones=("scratch",)).key() == both
    assert describe.DescribeConfig(backbones=("pretrained",), folds=4).key() != both


def test_each_backbones_command_is_kept_and_rows_are_in_a_fixed_order(tmp_path):
    """Run one backbone, then the other, into one OUT: describe.json names the command that
    made each backbone's rows, and the table lists pretrained, scratch, then the baselines,
    whatever order the folds were recorded in."""
    def record(isa, backbone):
        return {"isa": isa, "backbone": backbone, "fold": 0, "programs": 2, "heldout": 4, "off_topic": 2, "right": 1,
                "top1": 2, "accepted": 2, "accepted_wrong": 1, "off_topic_refused": 1}

    first = [record("ext", b) for b in ("pretrained", "word-overlap", "embedding-nn")]
    describe.write(first, tmp_path, describe.DescribeConfig(backbones=("pretrained",)), "m", "synth ... --backbone pretrained")
    later = first + [record("ext", "scratch"), record("subleq", "scratch"), record("subleq", "pretrained")]
    rows = describe.write(later, tmp_path, describe.DescribeConfig(backbones=("scratch",)), "m", "synth ... --backbone scratch")
    table = json.loads((tmp_path / "describe.json").read_text())
    assert table["commands"] == {"pretrained": "synth ... --backbone pretrained", "scratch": "synth ... --backbone scratch"}
    assert [(r["isa"], r["backbone"]) for r in rows] == [("ext", "pretrained"), ("ext", "scratch"), ("ext", "word-overlap"),
                                                         ("ext", "embedding-nn"), ("subleq", "pretrained"), ("subleq", "scratch")]
    assert rows[0]["right"]["mean"] == 25.0 and rows[0]["accepted_wrong"]["mean"] == 50.0
    (tmp_path / "describe.json").write_text("{not json")
    describe.write(first, tmp_path, describe.DescribeConfig(backbones=("pretrained",)), "m", "again")  # a bad old file is not fatal
    assert json.loads((tmp_path / "describe.json").read_text())["commands"] == {"pretrained": "again"}
