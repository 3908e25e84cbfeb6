"""A trained Synthesizer on disk: a directory of safetensors and JSON, never pickle.

A training run writes into its output directory ``OUT``::

    OUT/latest                     the name of the newest checkpoint directory
    OUT/checkpoint-000250/         one checkpoint (written as .tmp-..., then renamed: atomic)
        model.safetensors          the weights
        config.json                {"format": "synth-checkpoint", "version", "model": SynthesizerConfig,
                                    "train": TrainConfig, "state": {"step", "seconds", "exact_at", "evaluation"}}
        tokenizer.json             the tokenizer (Hugging Face tokenizers format)
        corpus.json                every program: name, code, initial data, symbols, inputs, outputs, descriptions
        optimizer.safetensors      AdamW moments and step counts, and the torch RNG states (for resuming)
        optimizer.json             AdamW's hyper-parameters per parameter group
    OUT/metrics.jsonl              one line per evaluation
    OUT/curves.png                 the loss and accuracy curves

``load(path)`` takes ``OUT`` (and follows ``latest``) or a checkpoint directory itself.
Anything missing, truncated or malformed is one clear SynthError.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from isa import files
from isa.base import SynthError
from isa.files import default_mode, read_text, write_atomic
from neural.corpus import Corpus
from neural.model import Synthesizer, SynthesizerConfig
from neural.tokenizer import SynthTokenizer

FORMAT = "synth-checkpoint"
VERSION = 1
LATEST = "latest"
MODEL_FILE, CONFIG_FILE, CORPUS_FILE = "model.safetensors", "config.json", "corpus.json"
OPTIM_FILE, OPTIM_JSON = "optimizer.safetensors", "optimizer.json"
REQUIRED = (MODEL_FILE, CONFIG_FILE, "tokenizer.json", CORPUS_FILE)


@dataclass
class Checkpoint:
    """What a checkpoint holds, loaded: a model ready to consult and what it was taught."""

    model: Synthesizer
    tokenizer: SynthTokenizer
    corpus: Corpus
    train: dict[str, Any]  # the TrainConfig it was trained with, as JSON
    state: dict[str, Any]  # step, seconds, exact_at, evaluation
    path: Path
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def step(self) -> int:
        return int(self.state.get("step", 0))


# -- finding ---------------------------------------------------------------------------------


def resolve(path: str | Path) -> Path:
    """The checkpoint directory that ``path`` names (a run directory or a checkpoint)."""
    p = Path(path)
    if not p.exists():
        raise SynthError(f"{p}: no such model directory")
    if not p.is_dir():
        raise SynthError(f"{p}: not a directory (a model is a checkpoint directory)")
    if (p / CONFIG_FILE).is_file() and not (p / LATEST).exists():
        return p
    if (p / LATEST).is_file():
        name = read_text(p / LATEST, "file").strip()
        if not name or "/" in name or name.startswith("."):
            raise SynthError(f"{p / LATEST}: does not name a checkpoint directory ({name[:80]!r})")
        if not (p / name).is_dir():
            raise SynthError(f"{p / LATEST} names {name}, which is missing")
        return p / name
    found = sorted(d for d in p.glob("checkpoint-*") if d.is_dir())
    if found:
        return found[-1]
    raise SynthError(f"{p}: holds no checkpoint (no {LATEST} file, no checkpoint-* directory, no {CONFIG_FILE})")


def has_checkpoint(out: str | Path) -> bool:
    p = Path(out)
    return p.is_dir() and ((p / LATEST).is_file() or any(d.is_dir() for d in p.glob("checkpoint-*")))


# -- loading ---------------------------------------------------------------------------------


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise SynthError(f"{path}: missing")
    return files.read_json(path)


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise SynthError(f"{path}: missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise SynthError(f"{path}: not a readable safetensors file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None


def read_config(directory: Path) -> dict[str, Any]:
    obj = read_json(directory / CONFIG_FILE)
    where = str(directory / CONFIG_FILE)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise SynthError(f"{where}: not a Synthesizer checkpoint (\"format\" must be {FORMAT!r})")
    if obj.get("version") != VERSION:
        raise SynthError(f"{where}: checkpoint version {obj.get('version')!r} is not supported (this is version {VERSION})")
    for key, kind in (("model", dict), ("train", dict), ("state", dict)):
        if not isinstance(obj.get(key), kind):
            raise SynthError(f"{where}: missing or malformed {key!r}")
    return obj


def load(path: str | Path, device: str | torch.device = "cpu", engine: str = "transformers") -> Checkpoint:
    """Load a checkpoint for use (``synth exec``): model in eval mode on ``device``.
    ``engine="lite"``: a BERT encoder that computes the same in plain torch and starts
    without transformers' modelling stack (neural/lite_bert.py), for inference only."""
    directory = resolve(path)
    for name in REQUIRED:
        if not (directory / name).is_file():
            raise SynthError(f"{directory}: incomplete checkpoint: {name} is missing")
    obj = read_config(directory)
    config = SynthesizerConfig.from_json(obj["model"], str(directory / CONFIG_FILE) + ": model")
    corpus = Corpus.from_json(read_json(directory / CORPUS_FILE), str(directory / CORPUS_FILE))
    if corpus.isa != config.isa:
        raise SynthError(f"{directory}: the corpus is for {corpus.isa!r} but the model for {config.isa!r}")
    if corpus.field_sizes() != config.field_sizes:
        raise SynthError(f"{directory}: the heads {config.field_sizes} do not fit the corpus (needs {corpus.field_sizes()})")
    tokenizer = SynthTokenizer.load(directory, corpus.max_n)
    if tokenizer.vocab_size != config.vocab_size:
        raise SynthError(f"{directory}: the tokenizer has {tokenizer.vocab_size} tokens but the model {config.vocab_size}")
    model = Synthesizer(config, load_pretrained=False, engine=engine)
    load_weights(model, read_tensors(directory / MODEL_FILE), directory / MODEL_FILE)
    dev = torch.device(device)
    model.to(dev).eval()
    return Checkpoint(model, tokenizer, corpus, obj["train"], obj["state"], directory, dev)


def load_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], where: Path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    if missing or unexpected:
        raise SynthError(f"{where}: weights do not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    for name, t in tensors.items():
        if t.shape != own[name].shape:
            raise SynthError(f"{where}: {name} has shape {tuple(t.shape)}, the model needs {tuple(own[name].shape)}")
    model.load_state_dict(tensors)


# -- saving ----------------------------------------------------------------------------------


def save(
    out: str | Path,
    model: Synthesizer,
    tokenizer: SynthTokenizer,
    corpus: Corpus,
    train: dict[str, Any],
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
    keep: int = 1,
) -> Path:
    """Write a checkpoint into the run directory ``out`` atomically and point ``latest``
    at it; older checkpoints beyond the newest ``keep`` are removed."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        name = f"checkpoint-{int(state['step']):06d}"
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=out))
        os.chmod(tmp, default_mode(directory=True))  # mkdtemp makes it 0700
        save_tensors({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp / MODEL_FILE)
        config = {"format": FORMAT, "version": VERSION, "model": model.config.to_json(), "train": train, "state": state}
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n")
        tokenizer.save(tmp)
        (tmp / CORPUS_FILE).write_text(json.dumps(corpus.to_json()) + "\n")
        if optimizer is not None:
            tensors, groups = optimizer_state(optimizer)
            save_tensors(tensors, tmp / OPTIM_FILE)
            (tmp / OPTIM_JSON).write_text(json.dumps(groups) + "\n")
        _fsync_dir(tmp)
        target = out / name
        if target.exists():  # the same step saved again (e.g. after an interrupt): swap
            shutil.rmtree(target)
        os.replace(tmp, target)
        write_atomic(out / LATEST, name + "\n")
        old = sorted(d for d in out.glob("checkpoint-*") if d.is_dir() and d.name != name)
        for d in old[: max(0, len(old) - (keep - 1))]:
            shutil.rmtree(d, ignore_errors=True)
        return target
    except OSError as e:
        raise SynthError(f"{out}: cannot write the checkpoint: {e.strerror or e}") from None


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    """safetensors' save_file, with the file given the user's umask (it writes 0600)."""
    save_file(tensors, str(path))
    os.chmod(path, default_mode())


def clean_temporaries(out: str | Path) -> None:
    """Remove half-written checkpoints that an interrupted save left behind."""
    for d in Path(out).glob(".tmp-checkpoint-*"):
        shutil.rmtree(d, ignore_errors=True)


def _fsync_dir(directory: Path) -> None:
    for f in directory.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())


# -- optimizer and RNG state (for resuming) ----------------------------------------------------


def optimizer_state(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for index, slots in sd["state"].items():
        for key, value in slots.items():
            tensors[f"state.{index}.{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, {"param_groups": groups}


def restore_optimizer(optimizer: torch.optim.Optimizer, directory: Path) -> None:
    """Load the AdamW state and the RNG states saved by ``save``."""
    tensors = read_tensors(directory / OPTIM_FILE)
    groups = read_json(directory / OPTIM_JSON)
    if not isinstance(groups, dict) or not isinstance(groups.get("param_groups"), list):
        raise SynthError(f"{directory / OPTIM_JSON}: malformed optimizer state")
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, slot = key.split(".", 2)
            state.setdefault(int(index), {})[slot] = value
    param_groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in groups["param_groups"]]
    try:
        optimizer.load_state_dict({"state": state, "param_groups": param_groups})
    except (ValueError, KeyError, RuntimeError) as e:
        raise SynthError(f"{directory}: the optimizer state does not fit the model ({e})") from None
    if "rng.cpu" in tensors:
        torch.set_rng_state(tensors["rng.cpu"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])


# -- the state of an unfinished experiment trial (resumed by the same command) ----------------


def save_partial(partial: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any],
                 average: torch.nn.Module | None = None) -> None:
    """Replace ``partial`` atomically by the weights (and averaged weights), the AdamW and RNG
    state and ``state`` (JSON: step, seconds, curve, ...) of an unfinished run."""
    tmp = partial.with_name(partial.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        # copies: a model with tied weights (a masked-word decoder and the embeddings) names one tensor twice
        save_tensors({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, tmp / MODEL_FILE)
        if average is not None:
            save_tensors({k: v.detach().cpu().clone() for k, v in average.state_dict().items()}, tmp / "average.safetensors")
        tensors, groups = optimizer_state(optimizer)
        save_tensors(tensors, tmp / OPTIM_FILE)
        write_atomic(tmp / OPTIM_JSON, json.dumps(groups) + "\n")
        write_atomic(tmp / "state.json", json.dumps(state) + "\n")
        shutil.rmtree(partial, ignore_errors=True)
        tmp.rename(partial)
    except OSError as e:
        raise SynthError(f"{partial}: cannot save the unfinished run: {e.strerror or e}") from None


def load_partial(partial: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 average: torch.nn.Module | None = None) -> dict[str, Any]:
    """Restore what ``save_partial`` wrote into ``model``, ``optimizer`` (and ``average``);
    returns its ``state``."""
    load_weights(model, read_tensors(partial / MODEL_FILE), partial / MODEL_FILE)
    if average is not None:
        load_weights(average, read_tensors(partial / "average.safetensors"), partial / "average.safetensors")
    restore_optimizer(optimizer, partial)
    state = read_json(partial / "state.json")
    if not isinstance(state, dict):
        raise SynthError(f"{partial / 'state.json'}: malformed; remove {partial} to start that run again")
    return state
