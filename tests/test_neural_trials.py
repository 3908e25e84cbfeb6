"""The record of finished trials (neural/experiments/trials.py): reused under the same
recipe, refused under another, and a setting added later counts as its default in records
written before it."""

from __future__ import annotations

import json

import pytest

from isa.base import SynthError
from neural.experiments import trials


def test_records_are_reused_under_their_recipe_and_refused_under_another(tmp_path):
    trials.record(tmp_path, {"seed": 0, "steps": 300}, {"lr": 0.002})
    assert [r["steps"] for r in trials.load(tmp_path, {"lr": 0.002})] == [300]
    with pytest.raises(SynthError, match="another recipe"):
        trials.load(tmp_path, {"lr": 0.003})


def test_a_setting_added_later_counts_as_its_default(tmp_path, monkeypatch):
    monkeypatch.setattr(trials, "ADDED_SETTINGS", {"slot_readout": "soft"})
    old = {"recipes": {"pretrained": {"lr": 0.002}}}  # written before slot_readout existed
    (tmp_path / trials.TRIALS).write_text(json.dumps({"fold": 0, "recipe": old}) + "\n")
    same = {"recipes": {"pretrained": {"lr": 0.002, "slot_readout": "soft"}}}
    assert [r["fold"] for r in trials.load(tmp_path, same)] == [0]
    with pytest.raises(SynthError, match="another recipe"):
        trials.load(tmp_path, {"recipes": {"pretrained": {"lr": 0.002, "slot_readout": "hard"}}})


def test_a_cut_last_line_is_ignored_and_a_bad_one_before_it_is_an_error(tmp_path):
    trials.record(tmp_path, {"seed": 0}, {})
    path = tmp_path / trials.TRIALS
    path.write_text(path.read_text() + '{"seed": 1, "reci')
    assert len(trials.load(tmp_path, {})) == 1
    path.write_text('{"seed": 1, "reci\n' + path.read_text())
    with pytest.raises(SynthError, match="not a JSON line"):
        trials.load(tmp_path, {})



def test_the_committed_records_still_resume_under_todays_recipes():
    """The unfinished experiments of results/ resume with the commands RESULTS.md prints: a
    setting added to TrainConfig since their records were written must be declared in
    ``trials.ADDED_SETTINGS`` (with its default), or the next run refuses them."""
    from conftest import REPO

    from neural.experiments import memorize, sst2

    memorize_records = REPO / "results" / "memorize-cpu"
    if (memorize_records / trials.TRIALS).exists():
        assert trials.load(memorize_records, memorize.recipe_key(memorize.recipe()))
    sst2_records = REPO / "results" / "sst2"
    if (sst2_records / trials.TRIALS).exists():
        train_rows = json.loads((sst2_records / trials.TRIALS).read_text().splitlines()[0])["train_rows"]
        assert trials.load(sst2_records, sst2.SST2Config().recipe_key(train_rows))
