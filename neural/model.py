"""The Synthesizer: a backbone that reads (C_t, description) and one head per ISA field.

    input_ids (B, L) --backbone--> h (B, H) --head[f]--> logits[f] (B, classes_f)   for each field f
    loss = sum over fields of cross-entropy(logits[f], labels[:, f])     (the paper's CE(A)+CE(B)+CE(C))

Heads are an ``nn.ModuleDict`` sized from the ISA's field domains at the corpus's largest
sizes (data addresses over max_k, instruction numbers over max_n, opcodes over the op
table); each is one linear layer (or, with ``head_hidden``, one hidden GELU layer and a
linear layer). Performing an instruction takes the argmax of each head.

Backbones:

* ``bert``: ``transformers.BertModel`` built from a ``BertConfig`` and trained from scratch
  (the paper's size: hidden 256, intermediate 1024; we use 4 layers of 4 heads), or read
  from a local pretrained directory. h is the final hidden state of [CLS] (or, with
  ``readout="mean"``, the mean over the real tokens).
* ``mlp``: a feed-forward network in the spirit of Theorem 1: h = ReLU MLP over
  concat(embedding of C_t, mean of the description's token embeddings); three hidden
  ReLU layers, and the heads are the fourth layer. It differs from the paper's
  construction, which is three separate 4-layer ReLU networks (one per field) on the raw
  pair [j, i] with hidden sizes set by N, n and k: ours shares one trunk between the
  fields, embeds j and the description instead of feeding scalars, and so reads natural
  language descriptions as well as program tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isa.base import SynthError
from isa.registry import get_isa
from neural import lite_bert
from neural.corpus import check_static

BACKBONES = ("bert", "mlp")
READOUTS = ("cls", "mean", "description")


@dataclass
class SynthesizerConfig:
    isa: str
    field_sizes: dict[str, int]  # head name -> classes, in the ISA's field order
    vocab_size: int
    backbone: str = "bert"
    hidden_size: int = 256
    intermediate_size: int = 1024
    num_layers: int = 4
    num_heads: int = 4
    max_positions: int = 512
    dropout: float = 0.0
    init_std: float = 0.02
    embedding_std: float | None = None  # token embeddings' init std (None: init_std; the mlp uses 1.0)
    pad_id: int = 0
    readout: str = "cls"  # bert: h = the final [CLS] state ("cls") or the mean over the real tokens ("mean")
    head_hidden: int = 0  # 0: each head is one linear layer; else Linear(H, head_hidden) -> GELU -> Linear(head_hidden, classes)
    pretrained: str | None = None  # "minilm" (the packaged encoder, neural/pretrained.py) or a local BERT directory
    slots: int = 0  # readout "description": learned program slots (one per program of the corpus); 0: none
    slot_scale: float = 20.0  # the slots' cosine logits are scale * cos(z, key)
    slot_readout: str = "soft"  # in eval mode, g = softmax-weighted values ("soft") or the top slot's value ("hard")
    ct_base: int = 0  # readout "description": the token id of [C:0] (the C_t embedding is indexed from it)
    max_n: int = 0  # readout "description": instruction numbers [0, max_n)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any, where: str = "model config") -> SynthesizerConfig:
        if not isinstance(obj, dict):
            raise SynthError(f"{where}: must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(obj) - known)
        if unknown:
            raise SynthError(f"{where}: unknown keys {unknown}")
        try:
            config = cls(**obj)
        except TypeError as e:
            raise SynthError(f"{where}: {e}") from None
        config.validate(where)
        return config

    def validate(self, where: str = "model config") -> None:
        if self.backbone not in BACKBONES:
            raise SynthError(f"{where}: backbone must be one of {', '.join(BACKBONES)}, not {self.backbone!r}")
        spec = get_isa(self.isa)
        if list(self.field_sizes) != list(spec.field_names):
            raise SynthError(f"{where}: heads {list(self.field_sizes)} do not match the fields of {spec.name} {list(spec.field_names)}")
        for name, value in (("hidden_size", self.hidden_size), ("intermediate_size", self.intermediate_size),
                            ("num_layers", self.num_layers), ("num_heads", self.num_heads), ("vocab_size", self.vocab_size),
                            *self.field_sizes.items()):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SynthError(f"{where}: {name} must be a positive integer, not {value!r}")
        if self.backbone == "bert" and self.hidden_size % self.num_heads:
            raise SynthError(f"{where}: hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads}")
        if self.readout not in READOUTS:
            raise SynthError(f"{where}: readout must be one of {', '.join(READOUTS)}, not {self.readout!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise SynthError(f"{where}: dropout must lie in [0, 1)")
        if self.readout == "description" and (self.backbone != "bert" or self.max_n < 1):
            raise SynthError(f"{where}: the description read-out needs the bert backbone and max_n >= 1")


class BertBackbone(nn.Module):
    def __init__(self, config: SynthesizerConfig, load_pretrained: bool = True, engine: str = "transformers") -> None:
        """``engine="lite"`` (a checkpoint loaded for inference, ``load_pretrained=False``):
        the encoder is neural/lite_bert.py's, which computes the same without importing
        transformers' modelling stack, wherever it computes this config."""
        super().__init__()
        self.readout = config.readout
        if config.pretrained and load_pretrained:
            self.bert = _pretrained_bert(config.pretrained, config.vocab_size)
            c = self.bert.config
            config.extra["bert_config"] = c.to_dict()
            config.hidden_size, config.intermediate_size = c.hidden_size, c.intermediate_size
            config.num_layers, config.num_heads = c.num_hidden_layers, c.num_attention_heads
            return
        stored = config.extra.get("bert_config")  # a checkpoint of a model that started from a pretrained one
        settings = stored if stored is not None else _scratch_settings(config)
        lite = lite_bert.spec(settings) if engine == "lite" else None
        if lite is not None:
            self.bert: nn.Module = lite_bert.LiteBert(lite, settings.get("pad_token_id") or 0)
            return
        from transformers import BertConfig, BertModel

        self.bert = BertModel(BertConfig.from_dict(settings) if stored is not None else BertConfig(**settings),
                              add_pooling_layer=False)
        if stored is None and config.embedding_std is not None:
            nn.init.normal_(self.bert.embeddings.word_embeddings.weight, std=config.embedding_std)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        if self.readout == "cls":
            return states[:, 0]  # (B, H): the [CLS] position
        mask = attention_mask.unsqueeze(-1).to(states.dtype)  # (B, L, 1)
        return (states * mask).sum(1) / mask.sum(1)  # (B, H): the mean over the real tokens


class DescriptionBackbone(nn.Module):
    """The description's representation, shared by all of its rows::

        z = mean over the real tokens of BERT([CLS] d [SEP])           (B, H)   (no C_t: one z per description)
        p = softmax(scale * cos(z, keys))                               (B, S)   (slots: one per program)
        g = p @ values  (slot_readout "hard", at inference: values[argmax p])   (B, H)
        h = MLP([E(C_t); g])                                            (B, H)   -> the heads

    Every row of a description sees the same g, so one description gives one whole
    program; a paraphrase the network never saw gives that program's rows as long as
    its z falls nearest that program's key. ``cos(z, keys)`` is the network's own
    confidence in each program (``program_scores``), which the calibrated threshold of
    ``synth exec --desc`` reads. Without slots, g is a linear map of z. Once the encoder
    is frozen (``freeze_encoder``), z is computed once per description and cached.
    """

    def __init__(self, config: SynthesizerConfig, load_pretrained: bool = True, engine: str = "transformers") -> None:
        super().__init__()
        self.encoder = BertBackbone(config, load_pretrained, engine)  # reads config.pretrained; sets hidden sizes
        H, inner = config.hidden_size, config.intermediate_size
        self.ct_base, self.scale = config.ct_base, config.slot_scale
        self.hard = config.slot_readout == "hard"
        self.ct = nn.Embedding(config.max_n, H)
        nn.init.normal_(self.ct.weight, std=1.0)
        if config.slots:
            self.keys = nn.Parameter(torch.randn(config.slots, H) * config.init_std)
            self.values = nn.Parameter(torch.randn(config.slots, H))
        else:
            self.project = nn.Linear(H, H)
        self.trunk = nn.Sequential(
            nn.Linear(2 * H, inner), nn.ReLU(), nn.Dropout(config.dropout),
            nn.Linear(inner, inner), nn.ReLU(), nn.Dropout(config.dropout),
            nn.Linear(inner, H), nn.ReLU(),
        )
        self.frozen = False
        self._cache: dict[bytes, torch.Tensor] = {}
        self.last_slot_logits: torch.Tensor | None = None
        if config.extra.get("encoder_frozen"):
            self.freeze_encoder()

    @property
    def has_slots(self) -> bool:
        return hasattr(self, "keys")

    def freeze_encoder(self) -> None:
        """Stop training the encoder: z is then a fixed function of the description, cached."""
        self.frozen = True
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        self._cache.clear()

    def train(self, mode: bool = True) -> DescriptionBackbone:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()  # no dropout in a frozen encoder: z stays what was cached
        return self

    def embed_descriptions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, H) z of each row's description: [CLS] d [SEP] without the [C:t] column, each
        distinct description encoded once."""
        ids = torch.cat([input_ids[:, :1], input_ids[:, 2:]], dim=1)  # (B, L-1)
        mask = torch.cat([attention_mask[:, :1], attention_mask[:, 2:]], dim=1)
        unique, inverse = torch.unique(ids, dim=0, return_inverse=True)  # (U, L-1), (B,)
        first = torch.zeros(len(unique), dtype=torch.long, device=ids.device).scatter_(
            0, inverse, torch.arange(len(ids), device=ids.device))  # a row of each distinct description
        umask = mask[first]
        if not self.frozen:
            z = self._encode(unique, umask)
        else:
            keys = [bytes(row.cpu().numpy().tobytes()) for row in unique]
            missing = [i for i, k in enumerate(keys) if k not in self._cache]
            if missing:
                with torch.no_grad():
                    fresh = self._encode(unique[missing], umask[missing])
                for i, v in zip(missing, fresh, strict=True):
                    self._cache[keys[i]] = v
            z = torch.stack([self._cache[k] for k in keys])
        return z[inverse]

    def _encode(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        width = int(mask.sum(1).max())
        ids, mask = ids[:, :width], mask[:, :width]
        states = self.encoder.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).to(states.dtype)
        return (states * m).sum(1) / m.sum(1)  # (U, H): the mean over the real tokens, as sentence encoders pool

    def program_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(B, S) scale * cos(z, keys)."""
        return self.scale * F.normalize(z, dim=-1) @ F.normalize(self.keys, dim=-1).T

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        z = self.embed_descriptions(input_ids, attention_mask)  # (B, H)
        if self.has_slots:
            logits = self.program_logits(z)  # (B, S)
            self.last_slot_logits = logits
            if self.hard and not self.training:  # the network's own choice of program, taken whole
                g = self.values[logits.argmax(-1)]  # (B, H)
            else:
                g = logits.softmax(-1) @ self.values  # (B, H)
        else:
            g = self.project(z)
        ct = self.ct(input_ids[:, 1] - self.ct_base)  # (B, H)
        return self.trunk(torch.cat([ct, g], dim=-1))  # (B, H)


class MLPBackbone(nn.Module):
    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__()
        H, inner = config.hidden_size, config.intermediate_size
        self.embed = nn.Embedding(config.vocab_size, H, padding_idx=config.pad_id)
        self.trunk = nn.Sequential(
            nn.Linear(2 * H, inner), nn.ReLU(), nn.Dropout(config.dropout),
            nn.Linear(inner, inner), nn.ReLU(), nn.Dropout(config.dropout),
            nn.Linear(inner, H), nn.ReLU(),
        )
        nn.init.normal_(self.embed.weight, std=1.0 if config.embedding_std is None else config.embedding_std)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        ct = self.embed(input_ids[:, 1])  # (B, H): the [C:t] token (tokenizer layout)
        desc = ((token_type_ids == 1) & (attention_mask == 1)).unsqueeze(-1).float()  # (B, L, 1)
        words = (self.embed(input_ids) * desc).sum(1) / desc.sum(1).clamp(min=1.0)  # (B, H): mean of the description
        return self.trunk(torch.cat([ct, words], dim=-1))  # (B, H)


class Synthesizer(nn.Module):
    """Backbone + one classification head per ISA field."""

    def __init__(self, config: SynthesizerConfig, load_pretrained: bool = True, engine: str = "transformers") -> None:
        """``load_pretrained=False`` builds the architecture only (weights come from a checkpoint);
        ``engine="lite"`` then builds an inference-only BERT encoder (neural/lite_bert.py)."""
        super().__init__()
        check_static(get_isa(config.isa))
        config.validate()
        self.config = config
        self.fields = list(config.field_sizes)
        if config.backbone == "mlp":
            self.backbone: nn.Module = MLPBackbone(config)
        elif config.readout == "description":
            self.backbone = DescriptionBackbone(config, load_pretrained, engine)
        else:
            self.backbone = BertBackbone(config, load_pretrained, engine)
        H = config.hidden_size
        self.heads = nn.ModuleDict({name: _head(H, config.head_hidden, size) for name, size in config.field_sizes.items()})
        for head in self.heads.modules():
            if isinstance(head, nn.Linear):
                nn.init.normal_(head.weight, std=config.init_std)
                nn.init.zeros_(head.bias)

    def head_sizes(self) -> dict[str, int]:
        """Each head's number of classes (its last layer's outputs)."""
        return {name: [m for m in head.modules() if isinstance(m, nn.Linear)][-1].out_features for name, head in self.heads.items()}

    def forward(
        self,
        input_ids: torch.Tensor,  # (B, L)
        attention_mask: torch.Tensor,  # (B, L)
        token_type_ids: torch.Tensor,  # (B, L)
        labels: torch.Tensor | None = None,  # (B, F) in field order
        programs: torch.Tensor | None = None,  # (B,) each row's program index: trains the program slots too
        label_smoothing: float = 0.0,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        h = self.backbone(input_ids, attention_mask, token_type_ids)  # (B, H)
        logits = {name: head(h) for name, head in self.heads.items()}  # name -> (B, classes)
        loss = None
        if labels is not None:
            loss = sum(F.cross_entropy(logits[name], labels[:, j], label_smoothing=label_smoothing) for j, name in enumerate(self.fields))
            slots = getattr(self.backbone, "last_slot_logits", None)
            if programs is not None and slots is not None:
                loss = loss + F.cross_entropy(slots, programs)
        return logits, loss

    @property
    def has_slots(self) -> bool:
        return bool(getattr(self.backbone, "has_slots", False))

    @torch.no_grad()
    def program_scores(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, programs) cos(z, key) of each row's description with each program's slot key:
        how strongly the network takes the description to mean each stored program."""
        if not self.has_slots:
            raise SynthError("this model has no program slots (it was not trained with the description read-out)")
        z = self.backbone.embed_descriptions(input_ids, attention_mask)
        return self.backbone.program_logits(z) / self.backbone.scale

    @torch.no_grad()
    def predict(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        """Argmax per field: (B, F) int64 instruction rows."""
        logits, _ = self.forward(input_ids, attention_mask, token_type_ids)
        return torch.stack([logits[name].argmax(-1) for name in self.fields], dim=-1)


def _scratch_settings(config: SynthesizerConfig) -> dict[str, Any]:
    """The ``BertConfig`` of a from-scratch backbone."""
    return {"vocab_size": config.vocab_size, "hidden_size": config.hidden_size, "num_hidden_layers": config.num_layers,
            "num_attention_heads": config.num_heads, "intermediate_size": config.intermediate_size,
            "hidden_dropout_prob": config.dropout, "attention_probs_dropout_prob": config.dropout,
            "max_position_embeddings": config.max_positions, "type_vocab_size": 2, "initializer_range": config.init_std,
            "pad_token_id": config.pad_id}


def _head(hidden: int, inner: int, classes: int) -> nn.Module:
    if not inner:
        return nn.Linear(hidden, classes)
    return nn.Sequential(nn.Linear(hidden, inner), nn.GELU(), nn.Linear(inner, classes))


def _pretrained_bert(name: str, vocab_size: int) -> nn.Module:
    from neural import pretrained

    return pretrained.load_bert(pretrained.resolve(name), vocab_size)
