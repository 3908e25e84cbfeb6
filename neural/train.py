"""Training the Synthesizer: the paper's recipe (sum of the fields' cross-entropies over
every (description, instruction) row) with AdamW, a linear warm-up, periodic evaluation
of every row by argmax, checkpoints and resuming.

    config = TrainConfig(max_steps=2000, until_exact=True)
    result = train(config, corpus, out="runs/max3")   # -> TrainResult

Determinism: the weights are initialised from ``seed``; the batch at step s is a pure
function of (seed, s) (an endless stream of seeded permutations of the rows, cut into
batches), and the learning rate is a function of s and of the step at which it was
annealed, which the checkpoint keeps. A resumed run therefore continues exactly where
the checkpoint left off.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from isa.base import SynthError
from isa.files import read_lines
from neural import checkpoint
from neural.config import TrainConfig
from neural.corpus import Corpus
from neural.data import Encoded, encode
from neural.model import Synthesizer, SynthesizerConfig
from neural.tokenizer import SynthTokenizer

METRICS_FILE, PLOT_FILE = "metrics.jsonl", "curves.png"


@dataclass
class Evaluation:
    """Argmax accuracy over every row of the dataset."""

    field_accuracy: dict[str, float]
    instruction_accuracy: float  # rows whose every field is right
    exact: bool  # every row right

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    steps: int
    exact: bool
    instruction_accuracy: float
    field_accuracy: dict[str, float]
    exact_at: int | None  # the step of the first evaluation where every row was right
    seconds: float  # wall time of training, summed over resumed sessions
    model: Synthesizer
    tokenizer: SynthTokenizer
    checkpoint: Path | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON line ``synth train`` ends with."""
        return {"steps": self.steps, "exact": self.exact, "instruction_accuracy": self.instruction_accuracy,
                "seconds": round(self.seconds, 3)}


# -- pieces of the loop ----------------------------------------------------------------------


def default_batch_size(rows: int) -> int:
    """The paper's rule: floor(rows / 20) (Table 1: floor(256 N / 20)), at least 1."""
    return max(1, rows // 20)


class BatchStream:
    """Batches of row indices: an endless stream of seeded permutations of the rows, cut
    into consecutive batches. The batch at step s depends on (seed, s) only."""

    def __init__(self, rows: int, batch_size: int, seed: int) -> None:
        self.rows, self.batch_size, self.seed = rows, batch_size, seed
        self._epoch, self._perm = -1, torch.empty(0, dtype=torch.long)

    def _permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.rows, generator=g)
        return self._perm

    def batch(self, step: int) -> torch.Tensor:
        start = step * self.batch_size
        epoch, offset = divmod(start, self.rows)
        parts, need = [], self.batch_size
        while need:
            take = min(need, self.rows - offset)
            parts.append(self._permutation(epoch)[offset : offset + take])
            need -= take
            epoch, offset = epoch + 1, 0
        return torch.cat(parts)  # (B,)


def learning_rate(config: TrainConfig, step: int, annealed: bool = False) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then constant, linear decay to 0 at
    ``max_steps``, or inverse square root (lr * sqrt(warmup_steps / step)); times
    ``anneal_factor`` once annealed."""
    return _schedule(config, step) * (config.anneal_factor if annealed else 1.0)


def _schedule(config: TrainConfig, step: int) -> float:
    if config.warmup_steps and step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.schedule == "inverse_sqrt":
        return config.lr * math.sqrt(max(1, config.warmup_steps) / max(1, step, config.warmup_steps))
    if config.schedule == "linear":
        span = max(1, config.max_steps - config.warmup_steps)
        return config.lr * max(0.0, 1.0 - (step - config.warmup_steps) / span)
    return config.lr


@torch.no_grad()
def evaluate(model: Synthesizer, data: Encoded, batch_size: int = 8192, world: Any = None) -> Evaluation:
    """Argmax accuracy on every row; under several processes each takes its share of the
    rows and the counts are summed."""
    from neural import distributed

    w = world or distributed.World()
    was_training = model.training
    model.eval()
    right = torch.zeros(len(model.fields) + 1, dtype=torch.long)  # per field, then whole rows
    rows = torch.arange(len(data))[w.rank :: w.size]
    for start in range(0, len(rows), batch_size):
        index = rows[start : start + batch_size].to(data.labels.device)
        predicted = model.predict(**data.inputs(index))  # (b, F)
        hits = predicted == data.labels[index]  # (b, F)
        right[:-1] += hits.sum(0).cpu()
        right[-1] += int(hits.all(-1).sum())
    model.train(was_training)
    distributed.all_sum(right, w)
    exact_rows = int(right[-1])
    total = len(data)
    return Evaluation(
        field_accuracy={name: right[j].item() / total for j, name in enumerate(model.fields)},
        instruction_accuracy=exact_rows / total,
        exact=exact_rows == total,
    )


def pick_device(name: str) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise SynthError("--device cuda: no CUDA GPU is available to torch here (use --device cpu)")
        return torch.device("cuda")
    if name != "cpu":
        raise SynthError(f"unknown device {name!r} (choose cpu or cuda)")
    return torch.device("cpu")


def build(config: TrainConfig, corpus: Corpus, tokenizer: SynthTokenizer | None = None) -> tuple[Synthesizer, SynthTokenizer]:
    """A fresh model for the corpus (weights from ``config.seed``), and its tokenizer unless
    one is given: the pretrained encoder's own for ``backbone="pretrained"``, a local one
    (``config.tokenizer``), or WordPiece learned from the corpus's descriptions."""
    backbone, pretrained_name, tokenizer_dir = backbone_settings(config)
    if tokenizer is None:
        if tokenizer_dir:
            tokenizer = SynthTokenizer.from_pretrained_dir(tokenizer_dir, corpus)
        else:
            tokenizer = SynthTokenizer.train(corpus, config.vocab_size)
    torch.manual_seed(config.seed)
    shared = {f.name: getattr(config, f.name) for f in fields(SynthesizerConfig) if hasattr(config, f.name)}
    model_config = SynthesizerConfig(**{
        **shared,  # the network's settings TrainConfig shares by name (sizes, dropout, init, read-out, ...)
        "isa": corpus.isa, "field_sizes": corpus.field_sizes(), "vocab_size": tokenizer.vocab_size, "backbone": backbone,
        "pad_id": tokenizer.pad_id, "pretrained": pretrained_name, "ct_base": tokenizer.ct_base, "max_n": corpus.max_n,
        "slots": len(corpus.programs) if config.readout == "description" else 0,
    })
    return Synthesizer(model_config), tokenizer


def param_groups(model: torch.nn.Module, weight_decay: float, head_scale: float = 1.0) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases and LayerNorm weights (BERT's practice); with
    ``head_scale`` != 1, the heads (the classifier) in groups of their own whose lr is the
    schedule's times ``head_scale`` (``lr_scale``): new layers on a pretrained encoder."""
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        plain = name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name
        head = head_scale != 1.0 and (name.startswith("heads.") or name.startswith("classifier.") or ".classifier." in name)
        groups.setdefault((head, plain), []).append(p)
    return [{"params": params, "weight_decay": 0.0 if plain else weight_decay, "lr_scale": head_scale if head else 1.0}
            for (head, plain), params in sorted(groups.items())]


def adamw(params: Any, **settings: Any) -> torch.optim.AdamW:
    """AdamW fused into one kernel where this torch has one for the parameters' device, else
    torch's default (per-tensor loops): on the CPU the fused step of the SST-2 BERT's 5.9 M
    parameters takes about a fifth of the time. The two differ in rounding only."""
    params = list(params)
    try:
        return torch.optim.AdamW(params, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):  # an older torch, or a device without the fused kernel
        return torch.optim.AdamW(params, **settings)


def backbone_settings(config: TrainConfig) -> tuple[str, str | None, str | None]:
    """(the model's backbone, the pretrained encoder it starts from, the tokenizer
    directory): ``pretrained`` is ``bert`` started from the packaged encoder
    (neural/pretrained.py) with that encoder's tokenizer."""
    if config.backbone != "pretrained":
        return config.backbone, config.pretrained, config.tokenizer
    from neural import pretrained

    name = config.pretrained or pretrained.NAME
    return "bert", name, config.tokenizer or str(pretrained.resolve(name))


# -- the loop --------------------------------------------------------------------------------


def train(
    config: TrainConfig,
    corpus: Corpus,
    out: str | Path | None = None,
    *,
    resume: bool | None = None,
    on_step: Callable[[int], None] | None = None,
    given: Collection[str] = (),
) -> TrainResult:
    """Train a Synthesizer on ``corpus``. With ``out``, checkpoints, metrics.jsonl and
    curves.png go there, and a checkpoint already there is resumed (``resume=None``: if
    present; True: required; False: refused, so nothing is overwritten by accident).
    ``given`` names the settings the caller chose explicitly: resuming a run whose
    checkpoint says otherwise for one of them (other than the RESUMABLE ones) is an error.
    ``on_step(step)`` is called after every optimiser step (tests use it to interrupt).
    Started by torchrun or accelerate launch, it trains on every process together
    (neural/distributed.py): each takes its share of every batch, rank 0 writes."""
    from neural import distributed

    config.validate()
    w = distributed.world(config.device)
    device = distributed.device_for(config.device, w)
    step, seconds, exact_at, annealed_at, saved_evaluation = 0, 0.0, None, None, None
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise SynthError(f"{out}: is a file, not a run directory (choose another --out)")
    directory = checkpoint.resolve(out) if out is not None and checkpoint.has_checkpoint(out) else None
    if directory is not None and resume is False:
        raise SynthError(f"{out} already holds a training run: resume it, or choose another --out (or --restart)")
    if directory is None and resume:
        raise SynthError(f"--resume: {out} holds no checkpoint to resume")
    if directory is not None:
        config = _resumed_config(config, directory, given)
        ckpt = checkpoint.load(directory)
        if json.dumps(ckpt.corpus.to_json(), sort_keys=True) != json.dumps(corpus.to_json(), sort_keys=True):
            raise SynthError(f"{out} holds a run on a different corpus: give the same programs, or another --out")
        model, tokenizer = ckpt.model, ckpt.tokenizer
        step, seconds, exact_at = ckpt.step, float(ckpt.state.get("seconds", 0.0)), ckpt.state.get("exact_at")
        annealed_at = ckpt.state.get("annealed_at")
        saved_evaluation = ckpt.state.get("evaluation")
        calibration = ckpt.state.get("calibration")
    else:
        model, tokenizer = build(config, corpus)
        calibration = None
    writes = out is not None and w.main  # one process writes checkpoints, metrics and plots
    if writes:
        Path(out).mkdir(parents=True, exist_ok=True)
        checkpoint.clean_temporaries(out)
    model.to(device).train()
    if directory is None and config.readout == "description" and config.encoder_epochs:
        from neural.encoder_fit import fit_encoder

        lr = config.encoder_lr if model.config.pretrained else config.lr
        calibration = fit_encoder(model, corpus, tokenizer, epochs=config.encoder_epochs, lr=lr, keys_lr=config.lr,
                                  quantile=config.calibration_quantile, seed=config.seed, device=device,
                                  objective=config.encoder_objective, margin=config.background_margin,
                                  background=read_lines(config.background, "background file") if config.background else None,
                                  say=(lambda s: sys.stderr.write(s + "\n")) if config.progress else None)
    data = encode(corpus, tokenizer).to(device)
    batch_size = config.batch_size or default_batch_size(len(data))
    stream = BatchStream(len(data), batch_size, config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps,
                                  weight_decay=config.weight_decay)
    if directory is not None:
        checkpoint.restore_optimizer(optimizer, directory)
    net = distributed.wrap(model, w, device)
    history = _read_metrics(out, step) if out is not None else []
    if writes:
        _write_metrics(out, history)  # drop what came after the checkpoint being resumed

    def save(evaluation: Evaluation | None) -> Path | None:
        if not writes:
            return None
        state = {"step": step, "seconds": seconds + (time.perf_counter() - t0), "exact_at": exact_at, "annealed_at": annealed_at,
                 "evaluation": evaluation.to_json() if evaluation else None, "batch_size": batch_size, "rows": len(data),
                 "calibration": calibration}
        return checkpoint.save(out, model, tokenizer, corpus, config.to_json(), state, optimizer)

    t0 = time.perf_counter()
    evaluation = _evaluation_from(saved_evaluation)
    losses: list[float] = []
    bar = _progress(config, step, w.main)
    try:
        while step < config.max_steps and not (config.until_exact and evaluation is not None and evaluation.exact):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step, annealed_at is not None)
            batch = stream.batch(step)  # (B,) the global batch, the same on every process
            index = distributed.share(batch, w).to(device)  # this process's part of it
            programs = data.program[index] if model.has_slots else None
            _, loss = net(**data.inputs(index), labels=data.labels[index], programs=programs, label_smoothing=config.label_smoothing)
            optimizer.zero_grad(set_to_none=True)
            (loss * distributed.loss_weight(len(index), len(batch), w)).backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            losses.append(_global_mean(loss, len(index), len(batch), w))
            bar.update(1)
            if step % config.eval_every == 0 or step == config.max_steps:
                evaluation = evaluate(model, data, world=w)
                if evaluation.exact and exact_at is None:
                    exact_at = step
                if config.anneal_at is not None and annealed_at is None and evaluation.instruction_accuracy >= config.anneal_at:
                    annealed_at = step
                history.append(_record(step, losses, optimizer, evaluation, seconds + time.perf_counter() - t0))
                if writes:
                    _append_metrics(out, history[-1])
                losses = []
                bar.set_postfix(loss=f"{history[-1]['loss']:.3g}", acc=f"{evaluation.instruction_accuracy:.3f}")
            if step % config.save_every == 0:
                save(evaluation)
            if on_step is not None:
                on_step(step)
    except KeyboardInterrupt:
        bar.close()
        saved = save(evaluation)
        if saved is not None:
            sys.stderr.write(f"synth: interrupted at step {step}; saved {saved} (run the same command to resume)\n")
        raise
    bar.close()
    if evaluation is None:
        evaluation = evaluate(model, data, world=w)
    path = save(evaluation)
    distributed.barrier(w)
    if writes and history:
        from neural.plot import plot_curves

        plot_curves(history, Path(out) / PLOT_FILE, title=f"Synthesizer ({config.backbone}) on {len(corpus.programs)} programs")
    seconds += time.perf_counter() - t0
    return TrainResult(step, evaluation.exact, evaluation.instruction_accuracy, evaluation.field_accuracy, exact_at,
                       seconds, model, tokenizer, path, history)


def _evaluation_from(obj: Any) -> Evaluation | None:
    """The last evaluation stored in a checkpoint (None if absent or malformed)."""
    try:
        return Evaluation(**obj) if isinstance(obj, dict) else None
    except TypeError:
        return None


def _resumed_config(config: TrainConfig, directory: Path, given: Collection[str] = ()) -> TrainConfig:
    """The checkpoint's config, with only the RESUMABLE keys taken from ``config``; a key
    in ``given`` that contradicts the checkpoint is an error."""
    saved = TrainConfig.from_dict(checkpoint.read_config(directory)["train"], str(directory / checkpoint.CONFIG_FILE))
    clashes = [f"{k} = {getattr(config, k)!r} (the run has {getattr(saved, k)!r})" for k in given
               if k not in TrainConfig.RESUMABLE and hasattr(saved, k) and getattr(config, k) != getattr(saved, k)]
    if clashes:
        raise SynthError(f"{directory.parent}: holds a run trained with other settings: {'; '.join(clashes)}. Resume it "
                         "without them, choose another --out, or --restart to discard it")
    for key in TrainConfig.RESUMABLE:
        setattr(saved, key, getattr(config, key))
    return saved.validate()


def _record(step: int, losses: list[float], optimizer: torch.optim.Optimizer, ev: Evaluation, seconds: float) -> dict[str, Any]:
    return {"step": step, "loss": sum(losses) / max(1, len(losses)), "lr": optimizer.param_groups[0]["lr"],
            "instruction_accuracy": ev.instruction_accuracy, "field_accuracy": ev.field_accuracy, "exact": ev.exact,
            "seconds": round(seconds, 3)}


def _progress(config: TrainConfig, step: int, main: bool = True) -> Any:
    from tqdm import tqdm

    return tqdm(total=config.max_steps, initial=step, file=sys.stderr, disable=not (config.progress and main),
                desc="training", unit="step", dynamic_ncols=True)


def _global_mean(loss: torch.Tensor, local: int, total: int, world: Any) -> float:
    """The batch's mean loss (every process's share summed), for the logs."""
    from neural import distributed

    if not world.distributed:
        return loss.item()
    return float(distributed.all_sum(torch.tensor([loss.item() * local], dtype=torch.float64), world).item()) / total


def _read_metrics(out: str | Path, upto: int) -> list[dict[str, Any]]:
    """The metrics of the run being resumed, up to its checkpoint's step."""
    path = Path(out) / METRICS_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line torn by a kill
        if isinstance(r, dict) and isinstance(r.get("step"), int) and r["step"] <= upto:
            records.append(r)
    return records


def _write_metrics(out: str | Path, history: list[dict[str, Any]]) -> None:
    from isa.files import write_atomic

    write_atomic(Path(out) / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in history))


def _append_metrics(out: str | Path, record: dict[str, Any]) -> None:
    from isa.files import append_line

    append_line(Path(out) / METRICS_FILE, json.dumps(record))
