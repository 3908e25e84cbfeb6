"""An inference-only BERT encoder in plain torch, for starting ``synth exec`` fast.

Building ``transformers.BertModel`` imports transformers' modelling stack (its attention
registry, masking utilities, ``torch._dynamo`` and ``torch.distributed.tensor``): about as
long again as ``import torch`` itself, which doubled the start-up of every ``synth exec``.
``LiteBert`` is the same encoder (absolute positions, post-LayerNorm layers, no pooler)
with the same parameter names, so a checkpoint's weights load into either; it computes
BertModel's eval forward::

    x = LayerNorm(word[ids] + token_type[types] + position[0..L-1])
    per layer:  a = LayerNorm(x + Wo * attention(Wq x, Wk x, Wv x; keys where mask == 1))
                x = LayerNorm(a + W2 * act(W1 a))

(``tests/test_neural_lite_bert.py`` checks it against BertModel on random and trained
weights). It has no dropout and refuses training mode: training, and resuming a run,
build transformers' model. ``spec`` says whether a model config is one it computes;
anything else (another position scheme or activation) keeps transformers' model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from isa.base import SynthError

ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu,
               "gelu_new": lambda x: F.gelu(x, approximate="tanh"), "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


@dataclass(frozen=True)
class LiteSpec:
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"


def spec(bert_config: dict[str, Any]) -> LiteSpec | None:
    """The LiteSpec of a ``BertConfig.to_dict()``, or None where LiteBert would compute
    something else than BertModel does."""
    c = bert_config
    if c.get("position_embedding_type", "absolute") != "absolute" or c.get("hidden_act", "gelu") not in ACTIVATIONS:
        return None
    if c.get("is_decoder") or c.get("add_cross_attention") or c.get("embedding_size") not in (None, c.get("hidden_size")):
        return None
    return LiteSpec(vocab_size=c["vocab_size"], hidden_size=c["hidden_size"], num_layers=c["num_hidden_layers"],
                    num_heads=c["num_attention_heads"], intermediate_size=c["intermediate_size"],
                    max_positions=c["max_position_embeddings"], type_vocab_size=c.get("type_vocab_size", 2),
                    layer_norm_eps=c.get("layer_norm_eps", 1e-12), hidden_act=c.get("hidden_act", "gelu"))


@dataclass
class LiteOutput:
    last_hidden_state: torch.Tensor  # (B, L, H)


class _Dense(nn.Module):  # BertSelfOutput / BertOutput: dense, then LayerNorm of the residual sum
    def __init__(self, inner: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(inner, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _SelfAttention(nn.Module):
    def __init__(self, s: LiteSpec) -> None:
        super().__init__()
        self.heads = s.num_heads
        self.query = nn.Linear(s.hidden_size, s.hidden_size)
        self.key = nn.Linear(s.hidden_size, s.hidden_size)
        self.value = nn.Linear(s.hidden_size, s.hidden_size)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        B, L, H = x.shape
        q, k, v = (proj(x).view(B, L, self.heads, H // self.heads).transpose(1, 2) for proj in (self.query, self.key, self.value))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)  # (B, heads, L, H/heads)
        return out.transpose(1, 2).reshape(B, L, H)


class _Attention(nn.Module):
    def __init__(self, s: LiteSpec) -> None:
        super().__init__()
        self.self = _SelfAttention(s)
        self.output = _Dense(s.hidden_size, s.hidden_size, s.layer_norm_eps)


class _Intermediate(nn.Module):
    def __init__(self, s: LiteSpec) -> None:
        super().__init__()
        self.dense = nn.Linear(s.hidden_size, s.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, s: LiteSpec) -> None:
        super().__init__()
        self.act = ACTIVATIONS[s.hidden_act]
        self.attention = _Attention(s)
        self.intermediate = _Intermediate(s)
        self.output = _Dense(s.intermediate_size, s.hidden_size, s.layer_norm_eps)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        a = self.attention.output(self.attention.self(x, keep), x)
        return self.output(self.act(self.intermediate.dense(a)), a)


class _Embeddings(nn.Module):
    def __init__(self, s: LiteSpec, pad_id: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(s.vocab_size, s.hidden_size, padding_idx=pad_id)
        self.position_embeddings = nn.Embedding(s.max_positions, s.hidden_size)
        self.token_type_embeddings = nn.Embedding(s.type_vocab_size, s.hidden_size)
        self.LayerNorm = nn.LayerNorm(s.hidden_size, eps=s.layer_norm_eps)

    def forward(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.token_type_embeddings(types)
        return self.LayerNorm(x + self.position_embeddings(positions))


class _Encoder(nn.Module):
    def __init__(self, s: LiteSpec) -> None:
        super().__init__()
        self.layer = nn.ModuleList([_Layer(s) for _ in range(s.num_layers)])


class LiteBert(nn.Module):
    """BertModel(add_pooling_layer=False)'s parameters and eval forward; inference only."""

    def __init__(self, s: LiteSpec, pad_id: int = 0) -> None:
        super().__init__()
        self.spec = s
        self.embeddings = _Embeddings(s, pad_id)
        self.encoder = _Encoder(s)

    def train(self, mode: bool = True) -> LiteBert:
        if mode:
            raise SynthError("LiteBert is for inference only: train with transformers' BertModel (neural.model)")
        return super().train(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> LiteOutput:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        keep = (torch.ones_like(input_ids) if attention_mask is None else attention_mask).bool()[:, None, None, :]  # (B,1,1,L)
        for layer in self.encoder.layer:
            x = layer(x, keep)
        return LiteOutput(x)
