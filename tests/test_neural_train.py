"""Training: memorisation to 100%, configs, checkpoints, resuming, bad checkpoints, the CLI."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from test_neural_data import mul_program

from cli.main import main
from isa.base import SynthError
from neural import checkpoint
from neural.corpus import Corpus, random_corpus
from neural.train import BatchStream, TrainConfig, learning_rate, train

TINY = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_heads": 2, "progress": False}  # one layer memorises unreliably


def tiny(**kw) -> TrainConfig:
    return TrainConfig(**{**TINY, "lr": 3e-3, "warmup_steps": 10, "schedule": "constant", "init_std": 0.02, "embedding_std": 1.0,
                          "anneal_at": 0.99, "eval_every": 10, "batch_size": 32, **kw})


def small_corpus() -> Corpus:
    return Corpus("subleq", [mul_program(), *random_corpus(2, 16, seed=3, k=6).programs])


@pytest.mark.parametrize("backbone", ["bert", "mlp"])
def test_tiny_memorisation_reaches_100_percent(backbone):
    result = train(tiny(backbone=backbone, max_steps=600, until_exact=True), small_corpus())
    assert result.exact and result.instruction_accuracy == 1.0
    assert result.exact_at == result.steps and result.steps % 10 == 0
    assert set(result.field_accuracy) == {"a", "b", "c"}


def test_batches_and_learning_rate_are_functions_of_the_step():
    stream = BatchStream(rows=50, batch_size=20, seed=1)
    first = [stream.batch(s) for s in range(5)]
    again = BatchStream(rows=50, batch_size=20, seed=1)
    assert all(torch.equal(again.batch(s), first[s]) for s in (3, 0, 4))
    epoch = torch.cat(first)[:50]
    assert sorted(epoch.tolist()) == list(range(50))  # every row once per epoch
    config = TrainConfig(lr=1.0, warmup_steps=4, schedule="linear", max_steps=8)
    assert [learning_rate(config, s) for s in range(8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25]


def test_the_table_1_recipe_schedule():
    """Experiment 1's recipe (docs/neural.md): 50 linear warm-up steps to 2e-3, then
    2e-3 * sqrt(50 / step), and a tenth of that once 99% of the rows are right."""
    from neural.experiments.memorize import recipe

    config = recipe()
    assert (config.lr, config.warmup_steps, config.schedule, config.anneal_at, config.anneal_factor) == (2e-3, 50, "inverse_sqrt", 0.99, 0.1)
    assert learning_rate(config, 0) == pytest.approx(2e-3 / 50)
    assert learning_rate(config, 24) == pytest.approx(2e-3 * 25 / 50)
    assert learning_rate(config, 49) == pytest.approx(2e-3)
    assert learning_rate(config, 50) == pytest.approx(2e-3)
    assert learning_rate(config, 200) == pytest.approx(1e-3)  # sqrt(50 / 200) = 1/2
    assert learning_rate(config, 800) == pytest.approx(5e-4)
    assert learning_rate(config, 800, annealed=True) == pytest.approx(5e-5)


def test_annealing_starts_at_the_first_evaluation_at_99_percent(tmp_path):
    """The learning rate drops tenfold from the first evaluation whose instruction accuracy
    reaches 99%, and the checkpoint says when."""
    corpus = random_corpus(3, 40, seed=2)
    config = TrainConfig(backbone="mlp", hidden_size=64, intermediate_size=128, lr=0.01, max_steps=400, eval_every=10,
                         until_exact=True, anneal_at=0.99, progress=False)
    result = train(config, corpus, tmp_path / "r")
    metrics = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    first = next(m["step"] for m in metrics if m["instruction_accuracy"] >= 0.99)
    state = json.loads((tmp_path / "r" / (tmp_path / "r" / "latest").read_text().strip() / "config.json").read_text())["state"]
    assert state["annealed_at"] == first
    for m in metrics:  # the lr logged at an evaluation is the one used for its last step
        expected = learning_rate(config, m["step"] - 1, annealed=m["step"] - 1 >= first)
        assert m["lr"] == pytest.approx(expected), m["step"]
    assert result.exact


def test_exactness_judged_independently_of_evaluate():
    """A model that training calls exact gives every row of every program under argmax,
    checked here row by row through the tokenizer and the model, not through evaluate()."""
    corpus = random_corpus(2, 12, seed=4)
    config = TrainConfig(backbone="mlp", hidden_size=64, intermediate_size=128, lr=0.01, max_steps=1500, eval_every=10,
                         until_exact=True, progress=False)
    result = train(config, corpus)
    assert result.exact
    model, tok = result.model.eval(), result.tokenizer
    for p in corpus.programs:
        ids = tok.encode_description(corpus.descriptions(p)[0])
        for t in range(p.n):
            batch = tok.batch([ids], torch.tensor([t]))
            with torch.no_grad():
                logits, _ = model(**batch)
            row = [int(logits[f].argmax(-1)) for f in corpus.spec.field_names]
            assert row == p.code[t].tolist(), (p.name, t)


def test_config_files(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 0.01\nbetas: [0.9, 0.95]\nbackbone: mlp\nbatch_size: 8\n")
    c = TrainConfig.from_file(tmp_path / "c.yaml")
    assert (c.lr, c.betas, c.backbone, c.batch_size) == (0.01, (0.9, 0.95), "mlp", 8)
    (tmp_path / "c.toml").write_text("max_steps = 7\nuntil_exact = true\n")
    c = TrainConfig.from_file(tmp_path / "c.toml")
    assert (c.max_steps, c.until_exact) == (7, True)
    (tmp_path / "bad.yaml").write_text("lr: 0.01\nlearning_rate: 3\n")
    with pytest.raises(SynthError, match=r"unknown keys \['learning_rate'\]"):
        TrainConfig.from_file(tmp_path / "bad.yaml")
    (tmp_path / "bad2.toml").write_text("max_steps = 'many'\n")
    with pytest.raises(SynthError, match="max_steps = 'many' has the wrong type"):
        TrainConfig.from_file(tmp_path / "bad2.toml")
    (tmp_path / "bad3.yaml").write_text("lr: [1\n")
    with pytest.raises(SynthError, match="malformed YAML"):
        TrainConfig.from_file(tmp_path / "bad3.yaml")
    (tmp_path / "c.ini").write_text("")
    with pytest.raises(SynthError, match="yaml, .yml or .toml"):
        TrainConfig.from_file(tmp_path / "c.ini")
    with pytest.raises(SynthError, match="schedule"):
        TrainConfig(schedule="cosine").validate()


def test_checkpoint_round_trip(tmp_path):
    corpus = small_corpus()
    result = train(tiny(max_steps=30, save_every=20), corpus, tmp_path / "run")
    run = tmp_path / "run"
    assert (run / "latest").read_text().strip() == "checkpoint-000030"
    assert not (run / "checkpoint-000020").exists()  # only the newest is kept
    files = {p.name for p in (run / "checkpoint-000030").iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "corpus.json", "optimizer.safetensors"} <= files
    assert not any(p.suffix in (".pt", ".pkl", ".bin") for p in (run / "checkpoint-000030").iterdir())
    assert [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()] == [10, 20, 30]
    assert (run / "curves.png").read_bytes()[:4] == b"\x89PNG"
    ckpt = checkpoint.load(run)
    assert ckpt.step == 30 and ckpt.corpus.names == corpus.names
    for a, b in zip(ckpt.model.state_dict().values(), result.model.state_dict().values(), strict=True):
        assert torch.equal(a, b.cpu())
    stored = ckpt.corpus.program("mul")
    assert stored.code.tolist() == corpus.programs[0].code.tolist() and stored.symbols == corpus.programs[0].symbols
    assert stored.descriptions == ["multiply x by i", "x times i"] and stored.inputs == ["x", "i"]
    assert checkpoint.load(run / "checkpoint-000030").step == 30  # a checkpoint directory itself


def test_resume_continues_from_the_saved_step(tmp_path):
    corpus = small_corpus()
    straight = train(tiny(max_steps=40), corpus)

    class Killed(Exception):
        pass

    def kill_at_25(step: int) -> None:
        if step == 25:
            raise Killed

    with pytest.raises(Killed):
        train(tiny(max_steps=40, save_every=10), corpus, tmp_path / "run", on_step=kill_at_25)
    assert checkpoint.load(tmp_path / "run").step == 20  # the last checkpoint before the kill
    resumed = train(tiny(max_steps=40, save_every=10), corpus, tmp_path / "run")
    assert resumed.steps == 40
    for a, b in zip(resumed.model.state_dict().values(), straight.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    steps = [json.loads(x)["step"] for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [10, 20, 30, 40]
    with pytest.raises(SynthError, match="different corpus"):
        train(tiny(max_steps=50), random_corpus(1, 8, seed=0), tmp_path / "run")
    with pytest.raises(SynthError, match="already holds a training run"):
        train(tiny(max_steps=50), corpus, tmp_path / "run", resume=False)
    with pytest.raises(SynthError, match="holds no checkpoint to resume"):
        train(tiny(max_steps=50), corpus, tmp_path / "empty", resume=True)


def test_keyboard_interrupt_saves_a_checkpoint(tmp_path):
    def interrupt(step: int) -> None:
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny(max_steps=40, save_every=100), small_corpus(), tmp_path / "run", on_step=interrupt)
    assert checkpoint.load(tmp_path / "run").step == 7


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    run = tmp_path_factory.mktemp("saved") / "run"
    train(tiny(max_steps=10), small_corpus(), run)
    return checkpoint.resolve(run)


def broken(saved, tmp_path):
    target = tmp_path / "ckpt"
    shutil.copytree(saved, target)
    return target


def test_bad_checkpoints_are_clear_errors(saved, tmp_path):
    with pytest.raises(SynthError, match="no such model directory"):
        checkpoint.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SynthError, match="holds no checkpoint"):
        checkpoint.load(tmp_path / "empty")

    d = broken(saved, tmp_path / "1")
    (d / "model.safetensors").unlink()
    with pytest.raises(SynthError, match="model.safetensors is missing"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "2")
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(SynthError, match="not a readable safetensors file"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "3")
    (d / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(SynthError, match="not a readable safetensors file"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "4")
    (d / "config.json").write_text("{not json")
    with pytest.raises(SynthError, match="malformed JSON"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "5")
    (d / "config.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(SynthError, match="not a Synthesizer checkpoint"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "6")
    obj = json.loads((d / "config.json").read_text())
    obj["model"]["hidden_size"] = 48
    (d / "config.json").write_text(json.dumps(obj))
    with pytest.raises(SynthError, match="has shape"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "7")
    (d / "tokenizer.json").write_text("[]")
    with pytest.raises(SynthError, match="not a readable tokenizer"):
        checkpoint.load(d)

    d = broken(saved, tmp_path / "8")
    (d / "corpus.json").write_text(json.dumps({"format": "synth-corpus", "version": 1, "isa": "subleq", "programs": [{}]}))
    with pytest.raises(SynthError, match="not a synth program"):
        checkpoint.load(d)


def test_cli_train_and_dataset(tmp_path, capsys):
    code = main(["train", "--random", "2", "--length", "8", "--out", str(tmp_path / "run"), "--max-steps", "20",
                 "--until-exact", "--no-progress", "--config", str(_tiny_yaml(tmp_path))])
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert set(summary) == {"steps", "exact", "instruction_accuracy", "seconds"}
    assert code == 1 and not summary["exact"] and summary["steps"] == 20  # 20 steps are not enough: --until-exact fails
    code = main(["train", "--random", "2", "--length", "8", "--out", str(tmp_path / "run"), "--max-steps", "1500",
                 "--until-exact", "--no-progress", "--config", str(_tiny_yaml(tmp_path))])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and summary["exact"] and summary["steps"] < 1500  # resumed, and exact before the budget
    assert main(["dataset", "--random", "2", "--length", "8", "--out", str(tmp_path / "ds")]) == 0
    meta = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert meta["rows"] == 16 and meta["programs"] == 2
    assert main(["train", "--isa", "classic", "--random", "1", "--out", str(tmp_path / "c")]) == 2
    assert "cannot learn 'classic'" in capsys.readouterr().err
    assert main(["train", "--random", "1", "--out", str(tmp_path / "x"), "--config", str(tmp_path / "none.yaml")]) == 2
    assert "no such config file" in capsys.readouterr().err


def _tiny_yaml(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}\n" for k, v in TINY.items()) + "eval_every: 5\nlr: 0.003\n")
    return path


def test_start_from_a_local_pretrained_bert(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(tmp_path / "bert")
    result = train(tiny(pretrained=str(tmp_path / "bert"), max_steps=5, hidden_size=48), small_corpus(), tmp_path / "run")
    assert result.model.config.hidden_size == 32  # the pretrained model's, not the config's
    shutil.rmtree(tmp_path / "bert")
    ckpt = checkpoint.load(tmp_path / "run")  # rebuilt from the stored BertConfig: the pretrained directory is not needed
    for a, b in zip(ckpt.model.state_dict().values(), result.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(SynthError, match="not a pretrained model directory"):
        train(tiny(pretrained=str(tmp_path / "nothing"), max_steps=1), small_corpus())
