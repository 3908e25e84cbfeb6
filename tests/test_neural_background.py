"""Background texts in the encoder fit (neural/encoder_fit.py): texts that describe no
program are kept away from every program key, a held-out part of them raises the refusal
threshold, and a bad background setting or file is one clear error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import REPO

from isa.base import SynthError
from neural.config import TrainConfig
from neural.corpus import load_corpus
from neural.encoder_fit import fit_encoder, scores
from neural.train import build

PROGRAMS = ["add", "negate", "max_of_two", "is_zero"]
BACKGROUND = [f"{verb} the {thing}" for verb in ("water", "paint", "book", "wash", "tidy")
              for thing in ("garden", "kitchen", "car", "fence", "flat", "boat")]  # 30 texts, none a program


def fitted(background: list[str] | None) -> tuple[object, object, object, dict]:
    corpus = load_corpus([str(REPO / "examples" / f"{name}.sasm") for name in PROGRAMS], isa="ext")
    config = TrainConfig(backbone="bert", readout="description", hidden_size=32, intermediate_size=64, num_layers=1,
                         num_heads=2, vocab_size=300, slot_scale=10.0, progress=False)
    model, tokenizer = build(config, corpus)
    model.train()
    calibration = fit_encoder(model, corpus, tokenizer, epochs=15, lr=2e-3, keys_lr=2e-3, quantile=0.1, seed=0,
                              device=torch.device("cpu"), background=background, margin=0.2)
    return model, tokenizer, corpus, calibration


@pytest.fixture(scope="module")
def runs():
    return fitted(None), fitted(BACKGROUND)


def test_background_texts_are_kept_away_from_every_key(runs):
    (plain, tok_a, corpus, _), (exposed, tok_b, _, _) = runs
    device = torch.device("cpu")
    best_plain = scores(plain, tok_a, BACKGROUND, device).max(1)
    best_exposed = scores(exposed, tok_b, BACKGROUND, device).max(1)
    high_plain, high_exposed = np.quantile(best_plain, 0.9), np.quantile(best_exposed, 0.9)
    assert high_exposed < 0.25 and high_exposed < high_plain - 0.1  # the margin is 0.2; without, they come nearer keys
    texts = [d for p in corpus.programs for d in corpus.descriptions(p)]
    truth = [i for i, p in enumerate(corpus.programs) for _ in corpus.descriptions(p)]
    s = scores(exposed, tok_b, texts, device)
    assert (s.argmax(1) == np.array(truth)).mean() == 1.0  # the programs' own descriptions still read right


def test_calibration_counts_the_held_out_background(runs):
    (_, _, _, plain), (_, _, _, exposed) = runs
    assert "background" not in plain and exposed["background"] == 6  # every fifth of the 30
    assert len(exposed["background_scores"]) == 6
    others = exposed["heldout_other"]
    assert len(others) == exposed["heldout"] + 6  # the held-out background counts among the other scores
    assert exposed["other_high"] == pytest.approx(float(np.quantile(others, 0.9)), abs=1e-3)
    assert exposed["threshold"] == pytest.approx((exposed["own_low"] + exposed["other_high"]) / 2)


def test_bad_background_settings():
    with pytest.raises(SynthError, match="slots objective"):
        TrainConfig(readout="description", encoder_objective="pairs", background="x.txt").validate()
    with pytest.raises(SynthError, match="background_margin"):
        TrainConfig(background_margin=2.0).validate()
    with pytest.raises(SynthError, match="wrong type"):
        TrainConfig.from_dict({"background": 3})
    assert TrainConfig.from_dict({"background": None}).background is None


def test_a_missing_background_file_is_one_clear_error(tmp_path, capsys):
    from cli.main import main

    config = tmp_path / "c.toml"
    config.write_text('readout = "description"\nencoder_epochs = 1\nhidden_size = 32\nintermediate_size = 64\n'
                      'num_layers = 1\nnum_heads = 2\nvocab_size = 300\nmax_steps = 1\n'
                      f'background = "{tmp_path / "none.txt"}"\n')
    code = main(["train", str(REPO / "examples" / "add.sasm"), "--isa", "ext", "--config", str(config),
                 "--out", str(tmp_path / "m"), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "none.txt: no such background file" in err and "Traceback" not in err
