"""The Synthesizer model: heads from the ISA's domains, (logits, loss), refusals."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from test_neural_data import mul_program

from isa.base import SynthError
from isa.registry import get_isa, static_isas
from neural.corpus import Corpus, random_corpus
from neural.data import encode
from neural.model import Synthesizer, SynthesizerConfig
from neural.tokenizer import SynthTokenizer

TINY = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 1, "num_heads": 2}


def config_for(corpus: Corpus, tok: SynthTokenizer, backbone: str = "bert") -> SynthesizerConfig:
    return SynthesizerConfig(isa=corpus.isa, field_sizes=corpus.field_sizes(), vocab_size=tok.vocab_size,
                             backbone=backbone, pad_id=tok.pad_id, **TINY)


@pytest.mark.parametrize("isa", static_isas())
def test_heads_match_the_isa_domains(isa):
    corpus = random_corpus(2, 12, seed=0, isa=isa, k=20)
    tok = SynthTokenizer.train(corpus)
    model = Synthesizer(config_for(corpus, tok))
    spec = get_isa(isa)
    assert list(model.heads) == list(spec.field_names)
    expected = spec.field_sizes(n=12, k=20)
    assert model.head_sizes() == expected
    if isa == "ext":
        assert model.head_sizes()["op"] == len(spec.ops) == 15
    by_domain = {"data": 20, "code": 12, "opcode": len(spec.ops)}  # k = 20 cells, n = 12 rows
    assert model.head_sizes() == {f.name: by_domain[f.domain.value] for f in spec.fields}
    wide = Synthesizer(SynthesizerConfig(**{**config_for(corpus, tok).to_json(), "head_hidden": 16}))
    assert wide.head_sizes() == expected


def test_heads_use_the_largest_program():
    corpus = Corpus("subleq", [mul_program(), *random_corpus(1, 9, seed=0, k=4).programs])
    assert corpus.field_sizes() == {"a": 6, "b": 6, "c": 9}


@pytest.mark.parametrize("backbone", ["bert", "mlp"])
def test_forward_returns_logits_per_field_and_summed_cross_entropy(backbone):
    corpus = Corpus("subleq", [mul_program()])
    tok = SynthTokenizer.train(corpus)
    torch.manual_seed(0)
    model = Synthesizer(config_for(corpus, tok, backbone))
    enc = encode(corpus, tok)
    logits, loss = model(**enc.inputs(slice(None)), labels=enc.labels)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {"a": (14, 6), "b": (14, 6), "c": (14, 7)}
    manual = sum(F.cross_entropy(logits[f], enc.labels[:, j]) for j, f in enumerate("abc"))
    assert torch.allclose(loss, manual)
    _, none = model(**enc.inputs(slice(None)))
    assert none is None
    assert model.predict(**enc.inputs(slice(0, 3))).shape == (3, 3)


def test_classic_is_refused():
    config = SynthesizerConfig(isa="classic", field_sizes={"a": 4, "b": 4, "c": 4}, vocab_size=10, **TINY)
    with pytest.raises(SynthError, match="cannot learn 'classic'"):
        Synthesizer(config)


def test_bad_model_configs_are_clear():
    with pytest.raises(SynthError, match="unknown keys"):
        SynthesizerConfig.from_json({"isa": "subleq", "field_sizes": {"a": 2, "b": 2, "c": 2}, "vocab_size": 5, "colour": 1})
    with pytest.raises(SynthError, match="do not match the fields"):
        SynthesizerConfig.from_json({"isa": "subleq", "field_sizes": {"a": 2}, "vocab_size": 5})
    with pytest.raises(SynthError, match="backbone"):
        SynthesizerConfig.from_json({"isa": "subleq", "field_sizes": {"a": 2, "b": 2, "c": 2}, "vocab_size": 5, "backbone": "rnn"})


def test_hard_slot_readout_takes_the_top_slots_value_at_inference():
    import torch

    from neural.model import DescriptionBackbone, SynthesizerConfig

    torch.manual_seed(0)
    config = SynthesizerConfig(isa="ext", field_sizes={"a": 4}, vocab_size=40, hidden_size=32, intermediate_size=64,
                               num_layers=1, num_heads=2, readout="description", slots=3, ct_base=30, max_n=8,
                               slot_readout="hard")
    hard = DescriptionBackbone(config, load_pretrained=False)
    soft = DescriptionBackbone(SynthesizerConfig(**{**config.to_json(), "slot_readout": "soft"}), load_pretrained=False)
    soft.load_state_dict(hard.state_dict())
    ids = torch.tensor([[1, 30, 5, 6, 2], [1, 31, 7, 8, 2]])
    mask, types = torch.ones_like(ids), torch.zeros_like(ids)
    hard.eval()
    soft.eval()
    with torch.no_grad():
        h = hard(ids, mask, types)
        top = hard.last_slot_logits.argmax(-1)
        g = hard.values[top]
        expected = hard.trunk(torch.cat([hard.ct(ids[:, 1] - 30), g], dim=-1))
        assert torch.allclose(h, expected)
        assert not torch.allclose(soft(ids, mask, types), h)  # soft mixes the slots
    hard.train()
    with torch.no_grad():
        assert torch.allclose(hard(ids, mask, types), soft.train()(ids, mask, types))  # training is the same
