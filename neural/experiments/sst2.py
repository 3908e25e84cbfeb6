"""Experiments 2 and 3 of the paper on SST-2: a BERT classifier, the soft-instruction task and
the soft-imperative task (neural/experiments/soft_programs.py), one recipe for all three.

For each (task, seed) a model is trained for ``epochs`` passes over the training sentences
and validated on the dev set every ``eval_every`` steps; reported is the best validation
accuracy over a run, mean ± sample std over the seeds (the paper's Figure 3), beside the
paper's numbers: the class for the baseline, operand A for soft-instruction, the whole
instruction for soft-imperative, and for both soft tasks also the decision the predicted
instruction implies (positive or negative). The soft tasks' models are ordinary
Synthesizer checkpoints (``synth exec`` performs them); after training, every dev
sentence is performed through the network and checked against what its true label
implies (``perform``).

    OUT/trials.jsonl               one line per finished (task, seed): curve, best, performance check
    OUT/models/TASK-seedS/         the model (Synthesizer checkpoint; the baseline in Hugging Face format)
    OUT/models/TASK-seedS/partial/ the state of an unfinished trial (resumed by the same command)
    OUT/models/mlm-seedS/          --backbone self-pretrained: the seed's masked-word pass (neural/mlm.py;
                                   with --mlm-seed S, the one pass every seed starts from)
    OUT/sst2.md, sst2.json, sst2.png   the table and the validation curves

Determinism: seed s initialises the network, orders the batches (a pure function of (s,
step), length-bucketed) and draws the soft-imperative programs and pairings.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from isa.base import Status, SynthError
from isa.files import default_mode, write_atomic
from neural import checkpoint
from neural.config import TrainConfig
from neural.data import Encoded, LengthBuckets, encode_rows
from neural.experiments import trials
from neural.experiments.soft_programs import PROMPTS, TASKS, Task, make_task, scores
from neural.experiments.sst2_data import SST2
from neural.mlm import MLMConfig
from neural.tokenizer import SynthTokenizer
from neural.train import adamw, learning_rate, param_groups, pick_device

PAPER = {"baseline": (81.9, 0.5), "soft-instruction": (81.9, 0.5), "soft-imperative": (80.7, 1.3)}  # Figure 3, percent
BACKBONES = ("scratch", "pretrained", "self-pretrained")
LABELS = {"baseline": "BERT for sequence classification", "soft-instruction": "Synthesizer, soft-instruction",
          "soft-imperative": "Synthesizer, soft-imperative"}
MEASURED = {"baseline": "class", "soft-instruction": "operand A", "soft-imperative": "whole instruction"}
PARTIAL = "partial"


def recipe(backbone: str = "scratch", **overrides: Any) -> TrainConfig:
    """The one recipe of all three tasks (docs/neural.md, "SST-2"), from scratch or from the
    packaged pretrained encoder; ``max_steps`` and ``warmup_steps`` are set per run from
    the epochs and ``SST2Config.warmup``. "self-pretrained" is the scratch recipe at lr 3e-4,
    started from the seed's masked-language-model pass over the training sentences
    (neural/mlm.py); at the scratch recipe's 7e-4 the baseline's dev accuracy (seed 0) peaked
    early and fell (docs/neural.md, "Self-pretraining")."""
    if backbone in ("scratch", "self-pretrained"):
        config = TrainConfig(backbone="bert", hidden_size=256, intermediate_size=1024, num_layers=2, num_heads=4,
                             dropout=0.1, init_std=0.02, embedding_std=None, vocab_size=16000, lr=7e-4, betas=(0.9, 0.98),
                             weight_decay=0.01, schedule="linear", anneal_at=None, grad_clip=1.0, batch_size=32,
                             label_smoothing=0.1, eval_every=200, save_every=500, progress=False)
        if backbone == "self-pretrained":
            config = config.with_settings(lr=3e-4)
    elif backbone == "pretrained":
        config = TrainConfig(backbone="pretrained", lr=5e-5, betas=(0.9, 0.98), weight_decay=0.01, schedule="linear",
                             init_std=0.02, embedding_std=None, anneal_at=None, grad_clip=1.0, batch_size=32,
                             label_smoothing=0.1, eval_every=200, save_every=250, progress=False)
    else:
        raise SynthError(f"--backbone must be one of {', '.join(BACKBONES)}, not {backbone!r}")
    return config.with_settings(**overrides)


HEAD_LR_SCALE = {"scratch": 1.0, "pretrained": 20.0, "self-pretrained": 1.0}  # a pretrained encoder at 5e-5, its new heads at 1e-3
NEW_TOKENS = ("mean", "spread")  # how the tokens added to a pretrained vocabulary start (build_model)


@dataclass
class SST2Config:
    tasks: tuple[str, ...] = TASKS
    seeds: int = 5
    epochs: float = 2.0
    max_train: int | None = None
    backbone: str = "scratch"
    warmup: float = 0.1  # share of the steps spent warming the learning rate up
    ema: float | None = 0.999  # validate and keep an exponential moving average of the weights (None: the weights)
    perform_steps: int = 100  # step limit of a performed soft-imperative run (its programs never halt)
    head_lr_scale: float | None = None  # the heads' (the classifier's) lr is the recipe's times this; None: HEAD_LR_SCALE[backbone]
    new_tokens: str = "spread"  # pretrained: the added tokens ([C:t], programs) start distinct ("spread") or as
    # transformers' resize leaves them, all one vector ("mean", the records made before this setting existed)
    device: str = "cpu"
    progress: bool = True
    recipe: TrainConfig = field(default_factory=recipe)
    mlm: MLMConfig = field(default_factory=MLMConfig)  # self-pretrained: the masked-language-model pass (neural/mlm.py)
    mlm_seed: int | None = None  # self-pretrained: one pass, made with this seed, shared by every seed's tasks (as the
    # packaged encoder is one for all seeds); None: each seed makes its own pass

    def validate(self) -> SST2Config:
        for t in self.tasks:
            if t not in TASKS:
                raise SynthError(f"unknown task {t!r} (choose {', '.join(TASKS)}, or all)")
        if self.seeds < 1:
            raise SynthError("--seeds must be at least 1")
        if not (self.epochs > 0 and math.isfinite(self.epochs)):
            raise SynthError("--epochs must be > 0")
        if self.backbone not in BACKBONES:
            raise SynthError(f"--backbone must be one of {', '.join(BACKBONES)}")
        if not 0 <= self.warmup < 1:
            raise SynthError("warmup must lie in [0, 1)")
        if self.ema is not None and not 0 < self.ema < 1:
            raise SynthError("ema must lie in (0, 1), or be None")
        if self.head_lr_scale is not None and not self.head_lr_scale > 0:
            raise SynthError("head_lr_scale must be > 0, or None")
        if self.new_tokens not in NEW_TOKENS:
            raise SynthError(f"new_tokens must be one of {', '.join(NEW_TOKENS)}, not {self.new_tokens!r}")
        self.mlm.validate()
        if self.mlm_seed is not None and (self.backbone != "self-pretrained" or self.mlm_seed < 0):
            raise SynthError("--mlm-seed is for --backbone self-pretrained, and must be >= 0")
        if self.backbone == "self-pretrained" and (self.recipe.pretrained or self.recipe.tokenizer):
            raise SynthError("--backbone self-pretrained starts from its own pass over the training sentences; "
                             "a config may not name a pretrained model or tokenizer for it")
        pick_device(self.device)
        return self

    def recipe_key(self, train_rows: int) -> dict[str, Any]:
        """What makes two trials comparable (all but the seed, device and progress bar)."""
        key = self.recipe.to_json()
        for k in ("seed", "device", "progress", "max_steps", "warmup_steps"):
            key.pop(k, None)
        obj = {"train": key, "backbone": self.backbone, "epochs": self.epochs, "warmup": self.warmup, "ema": self.ema,
               "train_sentences": train_rows, "perform_steps": self.perform_steps}
        if self.heads_scale() != 1.0:  # (records made before the scale existed had 1 and no key)
            obj["head_lr_scale"] = self.heads_scale()
        if self.backbone == "pretrained" and self.new_tokens != "mean":  # (nor before this one: "mean")
            obj["new_tokens"] = self.new_tokens
        if self.backbone == "self-pretrained":
            obj["new_tokens"], obj["self_pretrain"] = self.new_tokens, self.mlm.to_json()
            if self.mlm_seed is not None:  # (records made with a pass a seed have no key)
                obj["self_pretrain"]["shared_seed"] = self.mlm_seed
        return obj

    def pass_seed(self, seed: int) -> int:
        """The seed of the masked-word pass that ``seed``'s tasks start from."""
        return seed if self.mlm_seed is None else self.mlm_seed

    def heads_scale(self) -> float:
        return HEAD_LR_SCALE[self.backbone] if self.head_lr_scale is None else self.head_lr_scale


# -- the baseline: BERT for sequence classification, with the Synthesizer's forward -----------------


class SequenceClassifier(nn.Module):
    """``transformers.BertForSequenceClassification`` behind the Synthesizer's interface:
    ``forward(...) -> ({"class": logits}, loss)``."""

    fields = ["class"]

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                labels: torch.Tensor | None = None, label_smoothing: float = 0.0) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        logits = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits  # (B, 2)
        loss = F.cross_entropy(logits, labels[:, 0], label_smoothing=label_smoothing) if labels is not None else None
        return {"class": logits}, loss


def build_model(task: Task, config: TrainConfig, texts: list[str],
                new_tokens: str = "mean") -> tuple[nn.Module, SynthTokenizer]:
    """The task's network and tokenizer, initialised from ``config.seed``: from scratch, one
    WordPiece vocabulary learned from the training sentences and the prompts for all three
    tasks; pretrained, the encoder's own, and with ``new_tokens="spread"`` the tokens added
    to it drawn as distinct vectors (``pretrained.spread_added_tokens``)."""
    from neural.train import backbone_settings, build

    _, pretrained_name, tokenizer_dir = backbone_settings(config)
    if tokenizer_dir:
        tokenizer = SynthTokenizer.from_pretrained_dir(tokenizer_dir, task.corpus)
    else:
        tokenizer = SynthTokenizer.from_texts(_vocabulary_texts(texts), task.corpus, config.vocab_size)
    if task.corpus is not None:
        model, tokenizer = build(config, task.corpus, tokenizer)
        if pretrained_name and new_tokens == "spread":
            from neural import pretrained

            pretrained.spread_added_tokens(model, pretrained.resolve(pretrained_name))
        return model, tokenizer
    torch.manual_seed(config.seed)
    if pretrained_name:
        from neural import pretrained

        bert = pretrained.load_bert(pretrained.resolve(pretrained_name), tokenizer.vocab_size, classes=2)
        if new_tokens == "spread":
            pretrained.spread_added_tokens(bert, pretrained.resolve(pretrained_name))
    else:
        from transformers import BertConfig, BertForSequenceClassification

        bert = BertForSequenceClassification(BertConfig(
            vocab_size=tokenizer.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads, intermediate_size=config.intermediate_size,
            hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout, initializer_range=config.init_std,
            pad_token_id=tokenizer.pad_id, type_vocab_size=2, num_labels=2))
    return SequenceClassifier(bert), tokenizer


def encode_task_rows(task: Task, tokenizer: SynthTokenizer, which: str) -> Encoded:
    rows = task.train if which == "train" else task.dev
    if task.corpus is not None:
        return encode_rows(task.corpus, tokenizer, rows)
    texts = list(dict.fromkeys(r.description for r in rows))
    ids = dict(zip(texts, tokenizer.encode_descriptions(texts), strict=True))
    batch = tokenizer.batch([ids[r.description] for r in rows], None)
    labels = torch.tensor([r.labels for r in rows], dtype=torch.long)
    return Encoded(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], labels, torch.zeros(len(rows), dtype=torch.long))


# -- one trial ---------------------------------------------------------------------------------------


@torch.no_grad()
def predict_rows(model: nn.Module, data: Encoded, device: torch.device, batch_size: int = 256) -> np.ndarray:
    """(R, F) argmax of each head over the rows of ``data``."""
    was = model.training
    model.eval()
    out = []
    for start in range(0, len(data), batch_size):
        index = torch.arange(start, min(len(data), start + batch_size))
        inputs = {k: v.to(device) for k, v in data.inputs(index, trim=True).items()}
        logits, _ = model(**inputs)
        out.append(torch.stack([logits[name].argmax(-1) for name in model.fields], -1).cpu())
    model.train(was)
    return torch.cat(out).numpy()


def validate(task: Task, model: nn.Module, dev: Encoded, device: torch.device) -> dict[str, float]:
    predicted = predict_rows(model, dev, device)
    classes = np.array([e.label for e in task.dev_examples], dtype=np.int64)
    return scores(task.name, predicted, dev.labels.numpy(), classes)


def run_trial(task: Task, data: SST2, seed: int, config: SST2Config, model_dir: Path,
              say: Callable[[str], None] = lambda s: None, start: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train and validate one (task, seed); keep the model in ``model_dir``; return the record.
    ``start``: the seed's self-pretraining (``self_pretrain``), whose encoder and tokenizer
    the network starts from."""
    device = pick_device(config.device)
    where = {"pretrained": start["directory"], "tokenizer": start["directory"]} if start else {}
    recipe_ = TrainConfig(**{**asdict(config.recipe), "seed": seed, "device": config.device, **where})
    model, tokenizer = build_model(task, recipe_, [e.text for e in data.train], config.new_tokens)
    train_data, dev = encode_task_rows(task, tokenizer, "train"), encode_task_rows(task, tokenizer, "dev")
    B = recipe_.batch_size or 32
    stream = LengthBuckets(train_data.lengths(), B, seed)
    total = max(1, round(config.epochs * stream.per_epoch))
    recipe_.max_steps, recipe_.warmup_steps = total, round(config.warmup * total)
    model.to(device).train()
    optimizer = adamw(param_groups(model, recipe_.weight_decay, config.heads_scale()), lr=recipe_.lr,
                      betas=recipe_.betas, eps=recipe_.eps)
    average = WeightAverage(model, config.ema) if config.ema else None
    partial = model_dir / PARTIAL
    step, seconds, history, losses = 0, 0.0, [], []
    if (partial / "state.json").is_file():
        step, seconds, history, losses = _resume(partial, model, optimizer, average)
        say(f"synth: {task.name} seed {seed}: resuming at step {step} of {total} ({partial})")
    elif model_dir.exists():
        shutil.rmtree(model_dir)  # a finished model of an unrecorded trial, or debris: train it again
    t0 = time.perf_counter()
    bar = _bar(config, total, step, f"{task.name} seed {seed}")

    def save_partial() -> None:
        checkpoint.save_partial(partial, model, optimizer, {"step": step, "seconds": seconds + time.perf_counter() - t0,
                                                            "history": history, "losses": losses},
                                average.model if average is not None else None)

    def validate_if_due() -> None:
        """Validate at every eval_every-th step and the last (once: a resumed run may stand
        at a step whose validation was interrupted)."""
        nonlocal losses
        if not (step % recipe_.eval_every == 0 or step == total) or (history and history[-1]["step"] >= step) or not step:
            return
        metrics = validate(task, average.model if average else model, dev, device)
        history.append({"step": step, "epoch": round(step / stream.per_epoch, 4),
                        "loss": round(sum(losses) / max(1, len(losses)), 5), "lr": optimizer.param_groups[0]["lr"],
                        **{k: round(v, 5) for k, v in metrics.items()}})
        losses = []
        bar.set_postfix({"dev": f"{metrics[task.primary]:.3f}"})

    try:
        validate_if_due()
        while step < total:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(recipe_, step) * group.get("lr_scale", 1.0)
            index = stream.batch(step)
            inputs = {k: v.to(device) for k, v in train_data.inputs(index, trim=True).items()}
            _, loss = model(**inputs, labels=train_data.labels[index].to(device), label_smoothing=recipe_.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if recipe_.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), recipe_.grad_clip)
            optimizer.step()
            if average is not None:
                average.update(step)
            step += 1
            losses.append(loss.item())
            bar.update(1)
            validate_if_due()
            if step % recipe_.save_every == 0 and step < total:
                save_partial()
    except KeyboardInterrupt:
        bar.close()
        save_partial()
        say(f"synth: interrupted at step {step} of {task.name} seed {seed}; saved {partial} (run the same command to resume)")
        raise
    bar.close()
    seconds += time.perf_counter() - t0
    if average is not None:
        model = average.model  # what was validated is what is kept and performed
    final = history[-1]
    record = {"task": task.name, "backbone": config.backbone, "seed": seed, "steps": total, "batch_size": B,
              "steps_per_epoch": stream.per_epoch, "train_rows": len(train_data), "dev_rows": len(dev),
              "parameters": sum(p.numel() for p in model.parameters()), "seconds": round(seconds, 1),
              "best": _best(history), "final": {k: v for k, v in final.items() if k.endswith("accuracy")}, "history": history}
    if start:
        record["self_pretrain"] = {k: start[k] for k in ("seed", "steps", "seconds", "loss")}
    _save_model(task, model, tokenizer, recipe_, record, model_dir)
    if task.corpus is not None:
        record["perform"] = perform_check(task, model, tokenizer, device, config.perform_steps)
    shutil.rmtree(partial, ignore_errors=True)
    return record


def self_pretrain(data: SST2, seed: int, config: SST2Config, directory: Path,
                  say: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """The seed's masked-language-model pass over the training sentences (no labels), in
    ``directory`` (resumed if unfinished, reused if finished), with the one vocabulary of
    the three tasks; returns its record plus ``directory``."""
    from neural import mlm

    texts = [e.text for e in data.train]
    network = TrainConfig(**{**asdict(config.recipe), "seed": seed})
    tokenizer = SynthTokenizer.from_texts(_vocabulary_texts(texts), None, network.vocab_size)
    record = mlm.pretrain(texts, tokenizer, network, config.mlm, seed, directory, pick_device(config.device),
                          config.progress, say)
    say(f"synth: self-pretraining seed {seed}: {record['steps']} steps, masked-word loss {record['loss']:.3f}, "
        f"{record['seconds']:.0f} s")
    return {**record, "directory": str(directory)}


def discard_self_pretraining(out: str | Path) -> None:
    """Remove the seeds' masked-word passes under ``out/models`` (``--restart``)."""
    for directory in sorted((Path(out) / "models").glob("mlm-seed*")):
        try:
            shutil.rmtree(directory)
        except OSError as e:
            raise SynthError(f"{directory}: cannot remove it: {e.strerror or e}") from None


def _vocabulary_texts(texts: list[str]) -> list[str]:
    """What the scratch vocabulary is learned from: the training sentences and the prompts."""
    return [*texts, *(p.format(program="", text="") for p in PROMPTS)]


def _best(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Each accuracy's best over the run's validations, and the step of the first best."""
    out: dict[str, Any] = {}
    for key in (k for k in history[0] if k.endswith("accuracy")):
        best = max(history, key=lambda h: h[key])
        out[key], out[f"{key}_step"] = best[key], best["step"]
    return out


def _bar(config: SST2Config, total: int, step: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=step, file=sys.stderr, disable=not config.progress, desc=desc, unit="step",
                dynamic_ncols=True, leave=False)


class WeightAverage:
    """An exponential moving average of the weights (Polyak averaging), which is what gets
    validated and kept: ``decay`` per step, warmed up as min(decay, (1 + t) / (10 + t)) so
    that the first steps' weights do not linger."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        import copy

        self.decay = decay
        self.source = model
        self.model = copy.deepcopy(model).eval()
        self.model.requires_grad_(False)

    @torch.no_grad()
    def update(self, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        mine = [p for p in self.model.parameters()]
        theirs = [p.detach() for p in self.source.parameters()]
        torch._foreach_mul_(mine, d)
        torch._foreach_add_(mine, theirs, alpha=1 - d)


def _resume(partial: Path, model: nn.Module, optimizer: torch.optim.Optimizer,
            average: WeightAverage | None) -> tuple[int, float, list[dict[str, Any]], list[float]]:
    state = checkpoint.load_partial(partial, model, optimizer, average.model if average is not None else None)
    try:
        return int(state["step"]), float(state["seconds"]), list(state["history"]), [float(v) for v in state["losses"]]
    except (KeyError, TypeError, ValueError):
        raise SynthError(f"{partial / 'state.json'}: malformed; remove {partial} to train this trial again") from None


def _save_model(task: Task, model: nn.Module, tokenizer: SynthTokenizer, config: TrainConfig, record: dict[str, Any],
                model_dir: Path) -> None:
    """The soft tasks: an ordinary Synthesizer checkpoint (``synth exec --model DIR``); the
    baseline: Hugging Face's format (``BertForSequenceClassification.from_pretrained(DIR)``)
    with the tokenizer beside it."""
    state = {"step": record["steps"], "seconds": record["seconds"], "exact_at": None, "evaluation": None,
             "task": task.name, "dev": record["final"]}
    if task.corpus is not None:
        checkpoint.save(model_dir, model, tokenizer, task.corpus, config.to_json(), state)
        return
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model.bert.save_pretrained(str(model_dir), safe_serialization=True)
        for f in model_dir.glob("*.safetensors"):
            os.chmod(f, default_mode())
        tokenizer.save(model_dir)
    except OSError as e:
        raise SynthError(f"{model_dir}: cannot write the model: {e.strerror or e}") from None
    write_atomic(model_dir / "synth-baseline.json", json.dumps({"task": task.name, "train": config.to_json(), "state": state}) + "\n")


# -- performing the soft programs -----------------------------------------------------------------------


def perform_check(task: Task, model: nn.Module, tokenizer: SynthTokenizer, device: torch.device, max_steps: int) -> dict[str, Any]:
    """Every dev sentence performed through the network (stepwise; each (description, C_t)
    asked once) on its machine's memory, against what its true label implies:
    soft-instruction, the run halts after one step with ``label`` = the class;
    soft-imperative, a positive text runs the named program as its reference run does
    (same final memory, steps and status under the step limit), a negative one halts after
    one step with its memory unchanged."""
    from neural.execute import Job, MemoPredictor, NetworkPredictor, compare, perform_many

    assert task.corpus is not None
    model.eval()
    predictor = MemoPredictor(NetworkPredictor(model, tokenizer, device))
    corpus = task.corpus
    jobs = []
    for row in task.dev:
        named = _named_program(task, row)
        jobs.append(Job(corpus.program(named), row.description))
    runs = perform_many(predictor, jobs, max_steps if task.name == "soft-imperative" else 1)
    ok = {0: [0, 0], 1: [0, 0]}  # class -> [as implied, runs]
    for job, run, e in zip(jobs, runs, task.dev_examples, strict=True):
        r = run.result
        if task.name == "soft-instruction":
            label = job.program.symbols["label"].address
            right = r.status == Status.HALTED and r.steps == 1 and int(r.data[label]) == e.label
        elif e.label == 1:
            right = compare(job.program, job.program.data, run, max_steps)[1] is None
        else:
            right = r.status == Status.HALTED and r.steps == 1 and bool((r.data == job.program.data).all())
        ok[e.label][0] += int(right)
        ok[e.label][1] += 1
    total = ok[0][1] + ok[1][1]
    return {"runs": total, "as_label_implies": ok[0][0] + ok[1][0], "accuracy": round((ok[0][0] + ok[1][0]) / total, 5),
            "positive": {"runs": ok[1][1], "right": ok[1][0]}, "negative": {"runs": ok[0][1], "right": ok[0][0]},
            "max_steps": max_steps if task.name == "soft-imperative" else 1, "network_rows": predictor.calls}


def _named_program(task: Task, row: Any) -> str:
    """The program whose machine a dev row runs on: soft-instruction, either member (one
    memory); soft-imperative, the program the description names."""
    if task.name == "soft-instruction":
        return "positive"
    start = row.description.index("[prog:") + len("[prog:")
    return row.description[start : row.description.index("]", start)]


# -- the experiment -------------------------------------------------------------------------------------


def run(config: SST2Config, data: SST2, out: str | Path, say: Callable[[str], None] = lambda s: None) -> list[dict[str, Any]]:
    """Every (task, seed) trial, one after the other; the records of those already in
    ``out/trials.jsonl`` are reused."""
    config.validate()
    out = Path(out)
    key = config.recipe_key(len(data.train))
    done = {(r.get("task"), r.get("seed")): r for r in trials.load(out, key)}
    records = []
    for seed in range(config.seeds):  # seed by seed: an experiment stopped part-way has whole seeds of every task
        start = None
        if config.backbone == "self-pretrained" and any((name, seed) not in done for name in config.tasks):
            pass_seed = config.pass_seed(seed)
            start = self_pretrain(data, pass_seed, config, out / "models" / f"mlm-seed{pass_seed}", say)
        for name in config.tasks:
            rec = done.get((name, seed))
            if rec is None:
                task = make_task(name, data, seed)
                rec = run_trial(task, data, seed, config, out / "models" / f"{name}-seed{seed}", say, start)
                trials.record(out, rec, key)
                tag = ""
            else:
                tag = f" (recorded in {out / trials.TRIALS})"
            primary = Task(name, None, [], []).primary
            say(f"synth: {name} seed {seed}: best dev {MEASURED[name]} accuracy {100 * rec['best'][primary]:.1f}%, "
                f"{rec['seconds']:.0f} s{tag}")
            records.append(rec)
    return records


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, backbone): best-validation accuracies as mean ± sample std (ddof 1)
    over the seeds, in percent, beside the paper's."""
    rows = []
    for (task, backbone) in dict.fromkeys((r["task"], r["backbone"]) for r in records):
        mine = sorted((r for r in records if r["task"] == task and r["backbone"] == backbone), key=lambda r: r["seed"])
        primary = Task(task, None, [], []).primary

        def stat(values: list[float]) -> tuple[float, float | None]:
            pct = [100 * v for v in values]
            return round(statistics.fmean(pct), 2), (round(statistics.stdev(pct), 2) if len(pct) > 1 else None)

        acc = stat([r["best"][primary] for r in mine])
        dec = stat([r["best"]["decision_accuracy"] for r in mine])
        row = {"task": task, "backbone": backbone, "seeds": len(mine), "accuracy_mean": acc[0], "accuracy_std": acc[1],
               "paper_mean": PAPER[task][0], "paper_std": PAPER[task][1], "measured": MEASURED[task],
               "per_seed": [round(100 * r["best"][primary], 2) for r in mine],
               "decision_mean": dec[0], "decision_std": dec[1],
               "final_mean": stat([r["final"][primary] for r in mine])[0],
               "seconds_mean": round(statistics.fmean(r["seconds"] for r in mine), 1)}
        if all("perform" in r for r in mine):
            row["perform_mean"] = stat([r["perform"]["accuracy"] for r in mine])[0]
            row["perform_runs"] = mine[0]["perform"]["runs"]
        rows.append(row)
    return rows


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``synth experiment sst2 --json``."""
    return {k: row[k] for k in ("task", "backbone", "seeds", "accuracy_mean", "accuracy_std", "paper_mean")}


def _pm(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.1f}" + (f" ± {std:.1f}" if std is not None else "")


def markdown(rows: list[dict[str, Any]], machine: str = "") -> str:
    lines = [
        "| task | backbone | accuracy of | seeds | best dev accuracy (ours) | per seed | paper | decision implied (ours) "
        "| dev runs performed as the label implies | seconds per run |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        perform = f"{r['perform_mean']:.1f}% of {r['perform_runs']}" if "perform_mean" in r else "-"
        decision_ = _pm(r["decision_mean"], r["decision_std"]) if r["task"] != "baseline" else "-"
        lines.append(f"| {r['task']} | {r['backbone']} | {r['measured']} | {r['seeds']} | {_pm(r['accuracy_mean'], r['accuracy_std'])} "
                     f"| {', '.join(f'{v:.1f}' for v in r['per_seed'])} | {_pm(r['paper_mean'], r['paper_std'])} "
                     f"| {decision_} | {perform} | {r['seconds_mean']:.0f} |")
    notes = ["", "Best validation accuracy (percent) over each run's validations, mean ± sample standard deviation "
             "(ddof = 1) over the seeds; the paper's numbers are Figure 3's."]
    for backbone in dict.fromkeys(r["backbone"] for r in rows):
        by = {r["task"]: r for r in rows if r["backbone"] == backbone}
        if "baseline" in by and "soft-instruction" in by:
            gap = by["soft-instruction"]["accuracy_mean"] - by["baseline"]["accuracy_mean"]
            notes.append(f"Soft-instruction minus baseline ({backbone}): {gap:+.2f} points.")
        if "soft-instruction" in by and "soft-imperative" in by:
            gap = by["soft-imperative"]["accuracy_mean"] - by["soft-instruction"]["accuracy_mean"]
            notes.append(f"Soft-imperative minus soft-instruction ({backbone}): {gap:+.2f} points.")
    if machine:
        notes.append(f"Machine: {machine}.")
    return "\n".join(lines + notes) + "\n"


def plot(records: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    """The paper's Figure 3: validation accuracy against epochs, one curve per task (mean
    over the seeds, the band from the lowest to the highest seed), the paper's best
    accuracies as dashed lines."""
    from neural.plot import pyplot, save_png

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for colour, (task, backbone) in zip(("C0", "C1", "C2", "C3", "C4", "C5"),
                                        dict.fromkeys((r["task"], r["backbone"]) for r in records), strict=False):
        mine = [r for r in records if r["task"] == task and r["backbone"] == backbone]
        primary = Task(task, None, [], []).primary
        steps = min(len(r["history"]) for r in mine)
        epochs = [h["epoch"] for h in mine[0]["history"][:steps]]
        values = np.array([[100 * h[primary] for h in r["history"][:steps]] for r in mine])  # (seeds, evals)
        label = f"{LABELS[task]} ({backbone}, {len(mine)} seed{'s' if len(mine) > 1 else ''})"
        ax.plot(epochs, values.mean(0), color=colour, label=label)
        if len(mine) > 1:
            ax.fill_between(epochs, values.min(0), values.max(0), color=colour, alpha=0.2)
        ax.axhline(PAPER[task][0], color=colour, linestyle="--", linewidth=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_ylim(50, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "SST-2 dev accuracy (dashed: the paper's best, Figure 3)", fontsize=10)
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def write(records: list[dict[str, Any]], out: str | Path, config: SST2Config, machine: str, command: str, source: str) -> None:
    out = Path(out)
    rows = summarise(records)
    write_atomic(out / "sst2.md", markdown(rows, machine))
    obj = {"experiment": "sst2", "machine": machine, "command": command, "date": time.strftime("%Y-%m-%d"),
           "data": source, "backbone": config.backbone, "epochs": config.epochs, "max_train": config.max_train,
           "recipe": config.recipe.to_json(), "paper": {k: {"mean": v[0], "std": v[1]} for k, v in PAPER.items()},
           "rows": rows}
    write_atomic(out / "sst2.json", json.dumps(obj, indent=1) + "\n")
    plot(records, out / "sst2.png")
