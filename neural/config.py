"""TrainConfig: every setting of a training run, as a dataclass; also read from YAML or
TOML, where unknown keys and ill-typed values are a clear error. Its defaults are the
recipe of docs/neural.md ("The recipe"), used for Experiment 1."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from isa.base import SynthError
from neural.model import BACKBONES

SCHEDULES = ("constant", "linear", "inverse_sqrt")
# "pretrained": the BERT backbone started from the packaged pretrained encoder (neural/pretrained.py)
# with its own tokenizer, unless ``pretrained`` / ``tokenizer`` name other local directories.
TRAIN_BACKBONES = (*BACKBONES, "pretrained")


@dataclass
class TrainConfig:
    # the network
    backbone: str = "bert"  # "bert", "mlp", or "pretrained" (bert from the packaged encoder)
    hidden_size: int = 256
    intermediate_size: int = 1024
    num_layers: int = 4
    num_heads: int = 4
    dropout: float = 0.0
    init_std: float = 0.05  # std of the normal initialisation of the weights (BERT's own default: 0.02)
    embedding_std: float | None = 1.0  # std of the token embeddings' initialisation (None: init_std)
    readout: str = "cls"  # bert: the final [CLS] state ("cls"), the mean over the tokens ("mean"), or "description":
    # the description alone, mean-pooled, through one slot per program, shared by all its rows (neural/model.py)
    encoder_epochs: int = 0  # readout "description": epochs of fitting the encoder to description -> program first
    encoder_lr: float = 3e-5  # ... its learning rate for a pretrained encoder (a from-scratch one takes lr)
    encoder_objective: str = "slots"  # "slots": cross-entropy over the program keys; "pairs": SetFit's contrastive pairs
    calibration_quantile: float = 0.1  # the refusal threshold: between this low quantile of the held-out
    # descriptions' own-program scores and the high one of their other-program scores (neural/encoder_fit.py)
    background: str | None = None  # a file of texts that describe no program (one a line): the encoder fit keeps
    # their best cos(z, key) below background_margin, and the threshold above a held-out part of them
    background_margin: float = 0.2
    slot_scale: float = 20.0  # readout "description": program logits are slot_scale * cos(z, key)
    slot_readout: str = "soft"  # ... at inference, g mixes the slots' values by softmax ("soft") or is the top slot's ("hard")
    head_hidden: int = 0  # 0: linear heads; else one hidden GELU layer of this width in each head
    pretrained: str | None = None  # a pretrained BERT to start from: "minilm" (packaged) or a local directory
    tokenizer: str | None = None  # a local pretrained tokenizer directory (else: trained on the corpus; the encoder's own for "pretrained")
    vocab_size: int = 4000  # WordPiece vocabulary trained on the descriptions (before special tokens)
    # the optimisation
    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    weight_decay: float = 0.0
    warmup_steps: int = 50  # linear warm-up from 0 to lr
    schedule: str = "inverse_sqrt"  # after warm-up: "inverse_sqrt" (lr * sqrt(warmup / step)), "constant", or "linear" to 0 at max_steps
    anneal_at: float | None = 0.99  # once an evaluation's instruction accuracy reaches this, the lr is multiplied...
    anneal_factor: float = 0.1  # ... by this for the rest of the run (settles the last rows; see docs/neural.md)
    grad_clip: float = 1.0  # max gradient norm (0: off)
    label_smoothing: float = 0.0  # of every field's cross-entropy (the SST-2 recipe uses 0.1)
    batch_size: int | None = None  # None: floor(rows / 20), the paper's rule
    max_steps: int = 10_000
    until_exact: bool = False  # stop at the first evaluation where every instruction is exact
    eval_every: int = 25  # evaluate every row this often (steps)
    save_every: int = 500  # checkpoint this often (steps), and at the end
    seed: int = 0
    device: str = "cpu"
    progress: bool = True  # a tqdm bar on stderr

    # Keys a resumed run may change (the rest must match the checkpoint's).
    RESUMABLE = ("max_steps", "until_exact", "eval_every", "save_every", "device", "progress")

    def validate(self) -> TrainConfig:
        if self.backbone not in TRAIN_BACKBONES:
            raise SynthError(f"backbone must be one of {', '.join(TRAIN_BACKBONES)}, not {self.backbone!r}")
        if self.slot_readout not in ("soft", "hard"):
            raise SynthError(f"slot_readout must be soft or hard, not {self.slot_readout!r}")
        if self.schedule not in SCHEDULES:
            raise SynthError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        for name in ("max_steps", "warmup_steps"):
            if getattr(self, name) < 0:
                raise SynthError(f"{name} must be >= 0")
        for name in ("eval_every", "save_every", "hidden_size", "intermediate_size", "num_layers", "num_heads", "vocab_size"):
            if getattr(self, name) < 1:
                raise SynthError(f"{name} must be >= 1")
        if self.batch_size is not None and self.batch_size < 1:
            raise SynthError("batch_size must be >= 1")
        if not self.lr > 0:
            raise SynthError("lr must be > 0")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise SynthError("betas must be two numbers in [0, 1)")
        if not 0 <= self.dropout < 1:
            raise SynthError("dropout must lie in [0, 1)")
        if not 0 <= self.label_smoothing < 1:
            raise SynthError("label_smoothing must lie in [0, 1)")
        if self.anneal_at is not None and not 0 < self.anneal_at <= 1:
            raise SynthError("anneal_at must lie in (0, 1]")
        if not 0 < self.anneal_factor <= 1:
            raise SynthError("anneal_factor must lie in (0, 1]")
        if self.readout not in ("cls", "mean", "description"):
            raise SynthError(f"readout must be cls, mean or description, not {self.readout!r}")
        if self.readout == "description" and self.backbone == "mlp":
            raise SynthError("the description read-out is for the bert and pretrained backbones")
        if self.encoder_objective not in ("slots", "pairs"):
            raise SynthError(f"encoder_objective must be slots or pairs, not {self.encoder_objective!r}")
        if self.background is not None and self.encoder_objective != "slots":
            raise SynthError("background texts are used by the slots objective of the encoder fit, not pairs")
        if not -1 <= self.background_margin <= 1:
            raise SynthError("background_margin must lie in [-1, 1] (a cosine)")
        if self.encoder_epochs < 0 or not self.encoder_lr > 0 or not 0 <= self.calibration_quantile < 1:
            raise SynthError("encoder_epochs must be >= 0, encoder_lr > 0 and calibration_quantile in [0, 1)")
        return self

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def with_settings(self, **settings: Any) -> TrainConfig:
        """A copy with ``settings`` changed (a recipe's overrides); an unknown key is an error."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise SynthError(f"unknown training setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}")
        return TrainConfig(**{**asdict(self), **settings}).validate()

    @classmethod
    def from_dict(cls, obj: Any, where: str = "training config") -> TrainConfig:
        """From a mapping; unknown keys and ill-typed values are a clear error."""
        if not isinstance(obj, dict):
            raise SynthError(f"{where}: must be a mapping of settings")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(obj) - set(known))
        if unknown:
            raise SynthError(f"{where}: unknown keys {unknown} (known: {', '.join(sorted(known))})")
        values = {}
        for key, value in obj.items():
            values[key] = _coerce(key, value, getattr(cls(), key), where)
        return cls(**values).validate()

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        """A YAML (.yaml, .yml) or TOML (.toml) file of TrainConfig keys."""
        return cls.from_dict(_read_mapping(Path(path)), str(path))

    @classmethod
    def overrides_from_file(cls, path: str | Path) -> dict[str, Any]:
        """Only the keys a file sets, checked and typed as ``from_file`` does (for recipes
        whose own values differ from TrainConfig's defaults)."""
        obj = _read_mapping(Path(path))
        config = cls.from_dict(obj, str(path))
        return {key: getattr(config, key) for key in obj}


def _read_mapping(path: Path) -> dict[str, Any]:
    from isa.files import read_text

    text = read_text(path, "config file")
    if path.suffix.lower() == ".toml":
        try:
            obj = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SynthError(f"{path}: malformed TOML: {e}") from None
    elif path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            obj = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise SynthError(f"{path}: malformed YAML: {str(e).splitlines()[0]}") from None
    else:
        raise SynthError(f"{path}: a training config is a .yaml, .yml or .toml file")
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise SynthError(f"{path}: must be a mapping of settings")
    return obj


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    bad = SynthError(f"{where}: {key} = {value!r} has the wrong type")
    if key in ("pretrained", "tokenizer", "background", "batch_size", "embedding_std", "anneal_at") and value is None:
        return None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(default, int) or key == "batch_size":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if isinstance(default, float) or key in ("embedding_std", "anneal_at"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise bad
        return tuple(float(v) for v in value)
    if not isinstance(value, str):
        raise bad
    return value
