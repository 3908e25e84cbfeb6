"""The neural layer: the Synthesizer learns programs and performs them.

One level of representation per module, data flowing one way::

    corpus.py      programs (compiled .sasm, program .json, or random) + their descriptions
    data.py        corpus -> rows (description, instruction number) -> one label per ISA field
    tokenizer.py   WordPiece over the descriptions + one special token per program and per C_t
    model.py       Synthesizer = backbone (BERT or feed-forward) + one head per ISA field
    pretrained.py  the packaged pretrained encoder (all-MiniLM-L6-v2), loaded offline
    config.py      TrainConfig, the settings of a training run
    train.py       the training loop, evaluation, metrics and plots
    checkpoint.py  a trained model as a directory (safetensors + JSON, never pickle)
    execute.py     neural execution: stepwise (the network at every step) or extract
    choose.py      which stored program a request means; ask() performs one request
    plot.py        the training curves as a PNG
    experiments/   the paper's experiments (memorize: Table 1; sst2: Experiments 2 and 3) and describe

The public names below are imported on first use, so ``import neural`` does not load
torch or transformers until one of them is touched::

    corpus = neural.load_corpus(["examples/gcd.sasm"], isa="ext")
    result = neural.fit(neural.TrainConfig(backbone="mlp", until_exact=True), corpus, out="runs/gcd")   # neural.train.train
    perf = neural.ask("runs/gcd", "greatest common divisor", inputs={"a": 12, "b": 18})
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Corpus": "neural.corpus", "load_corpus": "neural.corpus", "random_corpus": "neural.corpus",
    "rows": "neural.data", "write_dataset": "neural.data",
    "SynthTokenizer": "neural.tokenizer",
    "Synthesizer": "neural.model", "SynthesizerConfig": "neural.model",
    "TrainConfig": "neural.config",
    "TrainResult": "neural.train", "evaluate": "neural.train",
    "Checkpoint": "neural.checkpoint",
    "NetworkPredictor": "neural.execute", "MemoPredictor": "neural.execute", "Job": "neural.execute",
    "perform": "neural.execute", "perform_many": "neural.execute", "extract": "neural.execute", "Performance": "neural.execute",
    "ask": "neural.choose",
}
# Names whose module has the same name (neural/train.py, neural/choose.py) are exported
# under other names: once such a module is imported, the package attribute is the module.
_RENAMED = {"fit": ("neural.train", "train"), "choose_program": ("neural.choose", "choose")}
__all__ = sorted([*_EXPORTS, *_RENAMED, "load"])


def load(path: Any, device: Any = "cpu") -> Any:
    """A trained Synthesizer from its run or checkpoint directory (neural.checkpoint.load)."""
    from neural.checkpoint import load as load_checkpoint

    return load_checkpoint(path, device)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'neural' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
