"""Experiments 2 and 3 (neural/experiments/sst2.py, soft_programs.py, sst2_data.py) on a small
sentiment sample written by the project: the data errors, the soft programs' machines, each
task end to end through ``synth experiment sst2``, performing the trained soft programs
with ``synth exec``, resuming, and the packaged pretrained encoder offline."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from cli.main import main
from isa.base import SynthError
from neural.experiments import soft_programs as sp
from neural.experiments import sst2_data
from runtime.run import run_program

TINY = """num_layers = 1
hidden_size = 64
intermediate_size = 128
num_heads = 2
lr = 0.003
batch_size = 16
eval_every = 25
"""


# -- data ---------------------------------------------------------------------------------------


def test_sample_round_trip(tmp_path):
    d = sst2_data.write_sample(tmp_path / "s", train=40, dev=10, seed=3)
    data = sst2_data.load(str(d))
    assert (len(data.train), len(data.dev)) == (40, 10)
    assert data.train == sst2_data.sample(40, 10, 3).train
    assert {e.label for e in data.train} == {0, 1}
    assert data.limited(5).train == data.train[:5] and data.limited(5).dev == data.dev


@pytest.mark.parametrize("case, message", [
    ("missing", "no such SST-2 directory"),
    ("file", "not a directory"),
    ("no-dev", "dev.tsv: missing"),
    ("header", "expected the header"),
    ("label", ":3: expected 'sentence<TAB>label' with label 0 or 1"),
    ("empty", "holds no sentences"),
])
def test_bad_data_is_one_clear_error(tmp_path, capsys, case, message):
    d = tmp_path / "d"
    if case == "file":
        d.write_text("x")
    elif case != "missing":
        d.mkdir()
        (d / "train.tsv").write_text("sentence\tlabel\ngood\t1\n")
        if case != "no-dev":
            body = {"header": "text,label\ngood,1\n", "label": "sentence\tlabel\ngood\t1\nbad\tneg\n",
                    "empty": "sentence\tlabel\n"}[case]
            (d / "dev.tsv").write_text(body)
    assert main(["experiment", "sst2", "--data", str(d), "--out", str(tmp_path / "o"), "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(d) in err and "Traceback" not in err


def test_bad_task_and_epochs(tmp_path, capsys):
    d = sst2_data.write_sample(tmp_path / "s", train=10, dev=4)
    assert main(["experiment", "sst2", "--data", str(d), "--task", "sentiment", "--out", str(tmp_path / "o")]) == 2
    assert "unknown task 'sentiment'" in capsys.readouterr().err
    assert main(["experiment", "sst2", "--data", str(d), "--epochs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--epochs must be > 0" in capsys.readouterr().err


def test_ema_flag(tmp_path, capsys, monkeypatch):
    """--ema D averages the weights with decay D, --ema none validates the weights themselves;
    a bad decay is one clear error, and an OUT recorded with another decay is not reused."""
    d = sst2_data.write_sample(tmp_path / "s", train=64, dev=8)
    (tmp_path / "tiny.toml").write_text(TINY)
    base = ["experiment", "sst2", "--data", str(d), "--task", "baseline", "--seeds", "1", "--epochs", "1",
            "--config", str(tmp_path / "tiny.toml"), "--no-progress", "--out", str(tmp_path / "o")]
    for bad, message in (("1.5", "between 0 and 1"), ("0", "between 0 and 1"), ("fast", "not a decay")):
        with pytest.raises(SystemExit) as exit_:
            main([*base, "--ema", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    from neural.experiments import sst2

    decays, average = [], sst2.WeightAverage

    def spy(model, decay):
        decays.append(decay)
        return average(model, decay)

    monkeypatch.setattr(sst2, "WeightAverage", spy)
    assert main([*base, "--ema", "none"]) == 0  # the weights themselves: no average made
    capsys.readouterr()
    record = json.loads((tmp_path / "o" / "trials.jsonl").read_text().splitlines()[0])
    assert decays == [] and record["recipe"]["ema"] is None
    assert main([*base, "--ema", "0.99"]) == 2
    assert "holds runs of another recipe" in capsys.readouterr().err
    assert main([*base[:-1], str(tmp_path / "o2"), "--ema", "0.99"]) == 0 and decays == [0.99]


# -- the machines -------------------------------------------------------------------------------


def test_soft_instruction_program_writes_the_class_and_halts():
    negative, positive = sp.classifier_programs()
    for cls, program in enumerate((negative, positive)):
        assert program.code[1].tolist() == [program.symbols[f"class_{cls}"].address, program.symbols["label"].address, 0]
        assert int(program.data[program.symbols[f"class_{cls}"].address]) == -cls  # the cell holds -class
        result = run_program(program, program.data.copy(), backend="reference", max_steps=10)
        assert (result.status.name, result.steps) == ("HALTED", 1)
        assert int(result.data[program.symbols["label"].address]) == cls
    assert (negative.code[:, 1:] == positive.code[:, 1:]).all()  # only operand A differs


def test_random_programs_never_reference_cell_or_row_zero():
    programs = sp.imperative_programs(seed=7)
    assert [p.name for p in programs] == [f"rand{i}" for i in range(10)] + ["halt"]
    for p in programs[:-1]:
        assert p.n == 11 and p.k == 11 and p.code[0].tolist() == [0, 0, 0]
        rows = p.code[1:]
        assert rows[:, :2].min() >= 1 and rows[:, 2].min() >= 1  # never data cell 0, never instruction 0
        assert (p.data == programs[0].data).all()  # one shared memory
    assert not programs[-1].code.any()
    assert sp.imperative_programs(seed=7)[3].code.tolist() == programs[3].code.tolist()  # seeded


def test_soft_imperative_rows():
    data = sst2_data.sample(200, 50, 1)
    task = sp.make_task("soft-imperative", data, seed=2)
    programs = {p.name: p for p in task.corpus.programs}
    for row, e in zip(task.train, data.train, strict=True):
        assert 1 <= row.instruction <= 10
        assert row.description.startswith("As long as the input text is positive run [prog:rand")
        assert row.description.endswith(f"[SEP] {e.text}")
        if e.label == 0:
            assert row.labels == sp.HALT and row.program == "halt"
        else:
            named = row.description.split("[prog:")[1].split("]")[0]
            assert row.program == named and row.labels == tuple(programs[named].code[row.instruction].tolist())
    assert sp.decision("soft-imperative", np.array([[0, 0, 0], [3, 4, 5]])).tolist() == [0, 1]
    assert sp.decision("soft-instruction", np.array([[sp.CLASS_1, 1, 0], [sp.CLASS_0, 1, 0], [0, 1, 0]])).tolist() == [1, 0, 0]


# -- end to end ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """All three tasks on the sample, one seed, three short epochs of a tiny BERT."""
    base = tmp_path_factory.mktemp("sst2")
    data = sst2_data.write_sample(base / "data", train=1200, dev=60, seed=0)
    (base / "tiny.toml").write_text(TINY)
    argv = ["experiment", "sst2", "--data", str(data), "--seeds", "1", "--epochs", "3", "--config", str(base / "tiny.toml"),
            "--out", str(base / "out"), "--json", "--no-progress"]
    return base, argv


def run_cli(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_each_task_trains_and_validates(trained, capsys):
    base, argv = trained
    code, out, err = run_cli(capsys, argv)
    assert code == 0, err
    rows = json.loads(out.strip().splitlines()[-1])
    assert [r["task"] for r in rows] == list(sp.TASKS)
    assert all(set(r) == {"task", "backbone", "seeds", "accuracy_mean", "accuracy_std", "paper_mean"} for r in rows)
    assert [r["paper_mean"] for r in rows] == [81.9, 81.9, 80.7]
    assert rows[0]["accuracy_mean"] >= 90 and rows[1]["accuracy_mean"] >= 90, rows  # the sample is easy to classify
    out_dir = base / "out"
    for name in ("sst2.md", "sst2.json", "sst2.png", "trials.jsonl"):
        assert (out_dir / name).is_file()
    table = json.loads((out_dir / "sst2.json").read_text())
    assert table["rows"][1]["measured"] == "operand A" and table["rows"][2]["measured"] == "whole instruction"
    records = [json.loads(line) for line in (out_dir / "trials.jsonl").read_text().splitlines()]
    for r in records:
        assert r["steps"] == 3 * r["steps_per_epoch"] and r["history"][-1]["step"] == r["steps"]
        if r["task"] != "baseline":
            assert r["perform"]["runs"] == 60 and r["best"]["decision_accuracy"] >= 0.9
            assert {"decision_accuracy", "instruction_accuracy", "a_accuracy"} <= set(r["best"])
    soft_instruction, soft_imperative = records[1]["perform"], records[2]["perform"]
    assert soft_instruction["accuracy"] >= 0.9  # halted after one step with the true class in label
    # Ten programs of ten rows are not memorised from 1,800 sentences by this tiny network; the
    # negative texts' runs halt at once with their memory unchanged all the same.
    assert soft_imperative["negative"]["right"] >= 0.9 * soft_imperative["negative"]["runs"]
    assert (out_dir / "models" / "baseline-seed0" / "model.safetensors").is_file()
    assert (out_dir / "models" / "soft-instruction-seed0" / "latest").is_file()

    # The same command again reuses every recorded trial.
    code, out2, err = run_cli(capsys, argv)
    assert code == 0 and err.count("recorded in") == 3
    assert json.loads(out2.strip().splitlines()[-1]) == rows


def test_performing_the_soft_instruction(trained, capsys):
    base, argv = trained
    model = base / "out" / "models" / "soft-instruction-seed0"
    if not model.exists():
        assert run_cli(capsys, argv)[0] == 0
    for text, cls in (("the film is truly wonderful .", 1), ("what a tedious ride", 0)):
        code, out, err = run_cli(capsys, ["exec", "--model", str(model), "--desc", f"Classify this input: {text}", "--json"])
        assert code == 0, err
        obj = json.loads(out)
        assert (obj["status"], obj["steps"], obj["outputs"]) == ("halted", 1, {"label": [cls]})


def test_performing_the_soft_imperative(trained, capsys):
    base, argv = trained
    model = base / "out" / "models" / "soft-imperative-seed0"
    if not model.exists():
        assert run_cli(capsys, argv)[0] == 0
    negative = "As long as the input text is positive run [prog:rand3] [SEP] this movie is so awful"
    code, out, err = run_cli(capsys, ["exec", "--model", str(model), "--desc", negative, "--json"])
    assert code == 0, err
    obj = json.loads(out)
    halt = sp.imperative_programs(seed=0)[-1]
    assert (obj["status"], obj["steps"], obj["program"]) == ("halted", 1, "halt")
    assert obj["memory"] == halt.data.tolist()  # unchanged


def test_interrupted_trial_resumes_from_its_saved_step(tmp_path, capsys, monkeypatch):
    from neural.experiments import sst2

    data = sst2_data.write_sample(tmp_path / "data", train=240, dev=20, seed=4)
    (tmp_path / "tiny.toml").write_text(TINY.replace("eval_every = 25", "eval_every = 5\nsave_every = 5"))
    argv = ["experiment", "sst2", "--data", str(data), "--task", "soft-instruction", "--seeds", "1", "--epochs", "1",
            "--config", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "out"), "--json", "--no-progress"]
    assert main(argv) == 0
    whole = json.loads((tmp_path / "out" / "trials.jsonl").read_text())
    (tmp_path / "out" / "trials.jsonl").unlink()

    real = sst2.validate
    calls = []

    def interrupt(*args):
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C in the validation of step 10: the state of step 10 is saved, its validation not
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(sst2, "validate", interrupt)
    assert main(argv) == 130
    assert "run the same command to resume" in capsys.readouterr().err
    assert (tmp_path / "out" / "models" / "soft-instruction-seed0" / "partial" / "state.json").is_file()
    monkeypatch.setattr(sst2, "validate", real)
    assert main(argv) == 0
    assert "resuming at step" in capsys.readouterr().err
    resumed = json.loads((tmp_path / "out" / "trials.jsonl").read_text())
    assert [h["decision_accuracy"] for h in resumed["history"]] == [h["decision_accuracy"] for h in whole["history"]]
    assert [h["step"] for h in resumed["history"]] == [5, 10, 15]
    assert [h["loss"] for h in resumed["history"]] == pytest.approx([h["loss"] for h in whole["history"]], rel=1e-4)
    assert not (tmp_path / "out" / "models" / "soft-instruction-seed0" / "partial").exists()


# -- the pretrained encoder ----------------------------------------------------------------------


def test_pretrained_encoder_loads_offline(monkeypatch):
    import torch

    from neural import pretrained

    def no_network(*args, **kwargs):
        raise AssertionError("the pretrained encoder reached for the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    path = pretrained.directory()
    assert (path / "model.safetensors").stat().st_size > 80_000_000  # the weights are in the installed package
    bert = pretrained.load_bert(path)
    assert (bert.config.hidden_size, bert.config.num_hidden_layers) == (384, 6)
    from neural.tokenizer import SynthTokenizer

    tok = SynthTokenizer.from_pretrained_dir(path, None)
    ids = tok.encode_descriptions(["a charming film", "a dull film"])
    with torch.no_grad():
        states = bert(input_ids=torch.tensor([[101, *i, 102] for i in ids])).last_hidden_state
    assert states.shape == (2, 5, 384) and not torch.allclose(states[0], states[1])


def test_pretrained_backbone_for_all_three_tasks(tmp_path, capsys):
    data = sst2_data.write_sample(tmp_path / "data", train=16, dev=8, seed=5)
    (tmp_path / "p.toml").write_text("batch_size = 8\neval_every = 2\n")
    code, out, err = run_cli(capsys, ["experiment", "sst2", "--data", str(data), "--backbone", "pretrained", "--seeds", "1",
                                      "--epochs", "1", "--config", str(tmp_path / "p.toml"), "--out", str(tmp_path / "o"),
                                      "--json", "--no-progress"])
    assert code == 0, err
    rows = json.loads(out.strip().splitlines()[-1])
    assert [(r["task"], r["backbone"]) for r in rows] == [(t, "pretrained") for t in sp.TASKS]
    config = json.loads((tmp_path / "o" / "models" / "soft-instruction-seed0" / "latest").parent.joinpath(
        (tmp_path / "o" / "models" / "soft-instruction-seed0" / "latest").read_text().strip(), "config.json").read_text())
    assert config["model"]["pretrained"] == "minilm" and config["model"]["hidden_size"] == 384  # no machine path stored


def test_heads_learn_faster_on_the_pretrained_encoder():
    """The pretrained recipe gives the new heads (and the baseline's classifier) lr x 20 in
    groups of their own; from scratch the groups, and the recorded recipe key, are as before."""
    import torch

    from neural.experiments import sst2
    from neural.train import param_groups

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Linear(3, 3)
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(3, 2)})
            self.LayerNorm = torch.nn.LayerNorm(3)

    m = Tiny()
    scaled = param_groups(m, 0.01, 20.0)
    by_id = {id(p): g for g in scaled for p in g["params"]}
    assert by_id[id(m.heads["a"].weight)]["lr_scale"] == 20.0 and by_id[id(m.heads["a"].weight)]["weight_decay"] == 0.01
    assert by_id[id(m.heads["a"].bias)]["lr_scale"] == 20.0 and by_id[id(m.heads["a"].bias)]["weight_decay"] == 0.0
    assert by_id[id(m.body.weight)]["lr_scale"] == 1.0 and by_id[id(m.LayerNorm.weight)]["weight_decay"] == 0.0
    assert scaled[0]["lr_scale"] == 1.0 and scaled[0]["weight_decay"] == 0.01  # group 0 carries the logged lr
    plain = param_groups(m, 0.01)
    assert len(plain) == 2 and all(g["lr_scale"] == 1.0 for g in plain)  # the scratch groups of earlier records
    assert "head_lr_scale" not in sst2.SST2Config(backbone="scratch").recipe_key(10)
    assert sst2.SST2Config(backbone="pretrained", recipe=sst2.recipe("pretrained")).recipe_key(10)["head_lr_scale"] == 20.0
    assert sst2.SST2Config(backbone="pretrained", head_lr_scale=1.0).heads_scale() == 1.0


def test_added_tokens_start_apart_on_the_pretrained_encoder():
    """transformers' resize starts every added token ([C:t], program tokens) as one vector;
    the pretrained recipe re-draws them as distinct as the encoder's own words, and leaves
    the pretrained rows as they were."""
    import torch

    from neural import pretrained
    from neural.experiments import sst2

    path = pretrained.directory()
    first = pretrained.vocab_size(path)
    torch.manual_seed(0)
    bert = pretrained.load_bert(path, first + 12)
    weight = bert.embeddings.word_embeddings.weight.data
    before = weight.clone()
    added = weight[first:]
    words = before[1000:1012]
    assert torch.cdist(added, added).max() < 1e-3 * torch.cdist(words, words).max()  # resize: all one vector
    assert pretrained.spread_added_tokens(bert, path) == 12
    assert torch.equal(weight[:first], before[:first])
    spread, typical = torch.pdist(weight[first:]), torch.pdist(before[2000:3000])
    assert spread.min() > 0.3 * typical.median() and spread.median() < 3 * typical.median()
    assert pretrained.spread_added_tokens(bert, path) == 12  # idempotent in shape; a second draw, not an error
    key = sst2.SST2Config(backbone="pretrained", recipe=sst2.recipe("pretrained")).recipe_key(10)
    assert key["new_tokens"] == "spread"
    assert "new_tokens" not in sst2.SST2Config(backbone="pretrained", new_tokens="mean").recipe_key(10)  # earlier records
    assert "new_tokens" not in sst2.SST2Config(backbone="scratch").recipe_key(10)


# -- self-pretraining (masked words of the training sentences, no labels, no outside text) ----------


def _tiny_network():
    from neural.config import TrainConfig

    return TrainConfig(backbone="bert", hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2, dropout=0.1,
                       init_std=0.02, embedding_std=None, vocab_size=300)


def test_masking_chooses_words_only():
    import torch

    from neural.mlm import mask_batch
    from neural.tokenizer import MASK, SynthTokenizer

    texts = [e.text for e in sst2_data.sample(200, 10, 1).train]
    tok = SynthTokenizer.from_texts(texts, None, 300)
    batch = tok.batch(tok.encode_descriptions(texts), None)
    ids, attention = batch["input_ids"], batch["attention_mask"]
    corrupted, chosen, targets = mask_batch(ids, attention, tok, 0.15, torch.Generator().manual_seed(0))
    words = (attention == 1) & (ids != tok.cls_id) & (ids != tok.sep_id)
    assert not (chosen & ~words).any()  # never [CLS], [SEP] or padding
    assert torch.equal(targets, ids[chosen]) and torch.equal(corrupted[~chosen], ids[~chosen])
    share = chosen.sum().item() / words.sum().item()
    assert 0.11 < share < 0.19, share
    masked = (corrupted[chosen] == tok.tokenizer.token_to_id(MASK)).float().mean().item()
    assert 0.7 < masked < 0.9, masked  # 80% [MASK]; of the rest, half a random word, half left
    one = tok.batch([tok.encode_description("good")], None)
    _, chosen1, _ = mask_batch(one["input_ids"], one["attention_mask"], tok, 0.01, torch.Generator().manual_seed(0))
    assert chosen1.sum().item() == 1  # a batch with a word always predicts one


def test_self_pretraining_learns_and_resumes_exactly(tmp_path, monkeypatch):
    import torch
    from safetensors.torch import load_file

    from neural import mlm
    from neural.tokenizer import SynthTokenizer

    texts = [e.text for e in sst2_data.sample(300, 10, 2).train]
    tok = SynthTokenizer.from_texts(texts, None, 300)
    config = mlm.MLMConfig(epochs=4, batch_size=16, lr=3e-3, save_every=10)
    whole = mlm.pretrain(texts, tok, _tiny_network(), config, 0, tmp_path / "whole")
    assert whole["steps"] == 4 * 19 and mlm.finished(tmp_path / "whole") == whole
    assert whole["curve"][-1]["loss"] < whole["curve"][0]["loss"] - 0.5  # it learns to fill in words
    for f in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (tmp_path / "whole" / f).is_file()
    assert not (tmp_path / "whole" / "partial").exists()

    real, calls = torch.nn.utils.clip_grad_norm_, []

    def interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) == 25:  # Ctrl-C in step 25: steps 0-23 done, the state of step 20 saved too
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", interrupt)
    with pytest.raises(KeyboardInterrupt):
        mlm.pretrain(texts, tok, _tiny_network(), config, 0, tmp_path / "cut")
    assert (tmp_path / "cut" / "partial" / "state.json").is_file() and mlm.finished(tmp_path / "cut") is None
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", real)
    resumed = mlm.pretrain(texts, tok, _tiny_network(), config, 0, tmp_path / "cut")
    a, b = load_file(str(tmp_path / "whole" / "model.safetensors")), load_file(str(tmp_path / "cut" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert [c["loss"] for c in resumed["curve"]] == pytest.approx([c["loss"] for c in whole["curve"]], rel=1e-5)


def test_layouts_of_the_masked_word_pass(tmp_path, capsys):
    """--mlm-shift / --mlm-type1: the pass reads sentences at random offsets and token types,
    so the positions and the type a Synthesizer description uses are trained; a plain pass's
    record is unchanged by the settings' existence."""
    import torch
    from safetensors.torch import load_file

    from neural import mlm
    from neural.tokenizer import SynthTokenizer

    texts = [e.text for e in sst2_data.sample(300, 10, 3).train]
    tok = SynthTokenizer.from_texts(texts, None, 300)
    batch = tok.batch(tok.encode_descriptions(texts), None)
    attention = batch["attention_mask"]
    positions, types = mlm.layout(attention, 12, 0.5, torch.Generator().manual_seed(0))
    assert (positions[:, 0] == 0).all()
    offsets = positions[:, 1] - 1
    assert offsets.min() == 0 and offsets.max() == 12  # uniform over 0 .. 12 (300 draws)
    assert torch.equal(positions[:, 1:], offsets[:, None] + torch.arange(1, attention.shape[1]))
    assert not (types.bool() & (attention == 0)).any() and (types[:, 0] == 0).all()
    second = types[:, 1].bool()
    assert 0.35 < second.float().mean() < 0.65 and torch.equal(types[second], attention[second] * (torch.arange(attention.shape[1]) > 0))
    plain_positions, plain_types = mlm.layout(attention, 0, 0.0, torch.Generator().manual_seed(0))
    assert torch.equal(plain_positions[:, 1:], torch.arange(1, attention.shape[1]).expand_as(plain_positions[:, 1:]))
    assert not plain_types.any()

    assert "shift" not in mlm.MLMConfig().to_json() and "type1" not in mlm.MLMConfig().to_json()
    assert mlm.MLMConfig(shift=12, type1=0.5).to_json()["shift"] == 12
    config = dict(epochs=2, batch_size=16, lr=3e-3)

    def boom(*args):
        raise AssertionError("a plain pass lays nothing out (and draws as it did before the layouts existed)")

    real_layout = mlm.layout
    mlm.layout = boom
    try:
        mlm.pretrain(texts, tok, _tiny_network(), mlm.MLMConfig(**config), 0, tmp_path / "plain")
    finally:
        mlm.layout = real_layout
    laid = mlm.pretrain(texts, tok, _tiny_network(), mlm.MLMConfig(**config, shift=12, type1=0.5), 0, tmp_path / "laid")
    assert laid["curve"][-1]["loss"] < laid["curve"][0]["loss"]
    a, b = load_file(str(tmp_path / "plain" / "model.safetensors")), load_file(str(tmp_path / "laid" / "model.safetensors"))
    cos = torch.nn.functional.cosine_similarity
    longest = int(attention.sum(1).max())
    for name, row in (("embeddings.token_type_embeddings.weight", 1), ("embeddings.position_embeddings.weight", longest + 6)):
        key = next(k for k in a if k.endswith(name))
        # untouched by the plain pass (its init, only decayed), trained by the laid-out one
        assert cos(a[key][row], b[key][row], dim=0) < 0.99, name

    data = sst2_data.write_sample(tmp_path / "data", train=20, dev=4)
    assert main(["experiment", "sst2", "--data", str(data), "--mlm-shift", "4", "--out", str(tmp_path / "o")]) == 2
    assert "--mlm-shift is for --backbone self-pretrained" in capsys.readouterr().err
    assert main(["experiment", "sst2", "--data", str(data), "--backbone", "self-pretrained", "--mlm-type1", "1.5",
                 "--out", str(tmp_path / "o")]) == 2
    assert "type1 in [0, 1]" in capsys.readouterr().err
    with pytest.raises(SynthError, match="more than BERT's 512"):
        mlm.pretrain([*texts, "good " * 75], tok, _tiny_network(), mlm.MLMConfig(**config, shift=mlm.MAX_SHIFT), 0,
                     tmp_path / "far")
    assert main(["experiment", "sst2", "--data", str(data), "--mlm-type1", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--mlm-type1 is for --backbone self-pretrained" in capsys.readouterr().err


def test_self_pretrained_backbone_for_all_three_tasks(tmp_path, capsys):
    data = sst2_data.write_sample(tmp_path / "data", train=300, dev=20, seed=6)
    (tmp_path / "tiny.toml").write_text(TINY)
    argv = ["experiment", "sst2", "--data", str(data), "--backbone", "self-pretrained", "--mlm-epochs", "1", "--seeds", "1",
            "--epochs", "1", "--config", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "o"), "--json", "--no-progress"]
    code, out, err = run_cli(capsys, argv)
    assert code == 0, err
    rows = json.loads(out.strip().splitlines()[-1])
    assert [(r["task"], r["backbone"]) for r in rows] == [(t, "self-pretrained") for t in sp.TASKS]
    assert err.count("self-pretraining seed 0") == 1  # one masked-word pass, shared by the three tasks
    start = json.loads((tmp_path / "o" / "models" / "mlm-seed0" / "mlm.json").read_text())
    records = [json.loads(line) for line in (tmp_path / "o" / "trials.jsonl").read_text().splitlines()]
    assert all(r["self_pretrain"]["steps"] == start["steps"] for r in records)
    assert all(r["recipe"]["self_pretrain"]["epochs"] == 1 for r in records)
    model = tmp_path / "o" / "models" / "soft-instruction-seed0"
    code, out, err = run_cli(capsys, ["exec", "--model", str(model), "--desc", "Classify this input: a fine film", "--json"])
    assert code == 0, err
    assert (json.loads(out)["status"], json.loads(out)["steps"]) == ("halted", 1)
    code, _, err = run_cli(capsys, argv)  # everything recorded: nothing trained again
    assert code == 0 and err.count("recorded in") == 3 and "self-pretraining" not in err


def test_one_self_pretraining_shared_by_every_seed(tmp_path, capsys):
    data = sst2_data.write_sample(tmp_path / "data", train=120, dev=12, seed=2)
    (tmp_path / "tiny.toml").write_text(TINY)
    argv = ["experiment", "sst2", "--data", str(data), "--backbone", "self-pretrained", "--mlm-epochs", "1", "--mlm-seed",
            "1", "--task", "baseline", "--seeds", "2", "--epochs", "1", "--config", str(tmp_path / "tiny.toml"),
            "--out", str(tmp_path / "o"), "--no-progress"]
    code, _, err = run_cli(capsys, argv)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "o" / "models").glob("mlm-seed*")) == ["mlm-seed1"]  # made once, with seed 1
    records = [json.loads(line) for line in (tmp_path / "o" / "trials.jsonl").read_text().splitlines()]
    assert [(r["seed"], r["self_pretrain"]["seed"]) for r in records] == [(0, 1), (1, 1)]
    assert all(r["recipe"]["self_pretrain"]["shared_seed"] == 1 for r in records)
    code, _, err = run_cli(capsys, argv[:8] + argv[10:])  # without --mlm-seed: another recipe, not mixed with these
    assert code == 2 and "holds runs of another recipe" in err
    assert main(["experiment", "sst2", "--data", str(data), "--mlm-seed", "0", "--out", str(tmp_path / "s")]) == 2
    assert "--mlm-seed is for --backbone self-pretrained" in capsys.readouterr().err


def test_a_self_pretraining_made_from_something_else_is_not_reused(tmp_path, capsys):
    from neural import mlm
    from neural.tokenizer import SynthTokenizer

    texts = [e.text for e in sst2_data.sample(60, 10, 3).train]
    tok = SynthTokenizer.from_texts(texts, None, 200)
    config = mlm.MLMConfig(epochs=1, batch_size=16)
    record = mlm.pretrain(texts, tok, _tiny_network(), config, 0, tmp_path / "m")
    assert mlm.pretrain(texts, tok, _tiny_network(), config, 0, tmp_path / "m") == record  # the same: reused
    for other in ((texts[:-1], config, 0), (texts, mlm.MLMConfig(epochs=2, batch_size=16), 0), (texts, config, 1)):
        with pytest.raises(SynthError, match="made from other texts or settings"):
            mlm.pretrain(other[0], tok, _tiny_network(), other[1], other[2], tmp_path / "m")
    (tmp_path / "m" / "mlm.json").write_text('{"steps": "x"}')
    with pytest.raises(SynthError, match="malformed self-pretraining record"):
        mlm.finished(tmp_path / "m")
    with pytest.raises(SynthError, match="epochs"):
        mlm.MLMConfig(epochs=float("inf")).validate()
    data = sst2_data.write_sample(tmp_path / "data", train=20, dev=8, seed=1)
    assert main(["experiment", "sst2", "--data", str(data), "--mlm-epochs", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--mlm-epochs is for --backbone self-pretrained" in capsys.readouterr().err
    (tmp_path / "p.toml").write_text('pretrained = "minilm"\n')
    assert main(["experiment", "sst2", "--data", str(data), "--backbone", "self-pretrained", "--config",
                 str(tmp_path / "p.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "may not name a pretrained model" in capsys.readouterr().err
