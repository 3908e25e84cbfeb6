"""neural/lite_bert.py: the inference-only encoder computes what transformers' BertModel
computes, from the same weights, and ``synth exec`` performs the same with either."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_neural_data import mul_program
from test_neural_execute import add_program
from test_neural_train import small_corpus, tiny

from cli.main import main
from isa.base import SynthError
from neural import checkpoint, lite_bert
from neural.corpus import Corpus
from neural.train import train


def _pair(hidden: int, heads: int, layers: int, act: str, seed: int):
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=40, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                        intermediate_size=2 * hidden, max_position_embeddings=32, hidden_act=act, layer_norm_eps=1e-7)
    bert = BertModel(config, add_pooling_layer=False).eval()
    for p in bert.parameters():  # not the init's zeros and ones: every weight matters
        torch.nn.init.normal_(p, std=0.3)
    spec = lite_bert.spec(config.to_dict())
    assert spec is not None
    lite = lite_bert.LiteBert(spec).eval()
    lite.load_state_dict(bert.state_dict())  # strict: the same parameter names and shapes
    return bert, lite


@settings(max_examples=12, deadline=None)
@given(heads=st.sampled_from([1, 2, 4]), width=st.sampled_from([4, 8]), layers=st.integers(1, 3),
       act=st.sampled_from(sorted(lite_bert.ACTIVATIONS)), seed=st.integers(0, 2**16), lengths=st.lists(st.integers(1, 12), min_size=1, max_size=5))
def test_lite_bert_computes_what_bertmodel_computes(heads, width, layers, act, seed, lengths):
    bert, lite = _pair(heads * width, heads, layers, act, seed)
    L = max(lengths)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 40, (len(lengths), L), generator=g)
    mask = torch.tensor([[1] * n + [0] * (L - n) for n in lengths])
    ids = ids * mask  # padding id 0 where masked
    types = torch.randint(0, 2, ids.shape, generator=g) * mask
    with torch.no_grad():
        want = bert(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = lite(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    real = mask.bool()
    assert torch.allclose(got[real], want[real], atol=1e-5, rtol=1e-5)  # the positions a read-out uses


def test_lite_bert_is_inference_only_and_knows_what_it_cannot_compute():
    _, lite = _pair(8, 2, 1, "gelu", 0)
    with pytest.raises(SynthError, match="inference only"):
        lite.train()
    from transformers import BertConfig

    assert lite_bert.spec(BertConfig(position_embedding_type="relative_key").to_dict()) is None
    assert lite_bert.spec(BertConfig(hidden_act="silu").to_dict()) is None
    assert lite_bert.spec(BertConfig().to_dict()) is not None


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("lite") / "run"
    result = train(tiny(max_steps=800, until_exact=True), Corpus("subleq", [mul_program(), add_program()]), run)
    assert result.exact
    return run


def _logits(ckpt, corpus_rows: int = 64):
    from neural.data import encode

    enc = encode(ckpt.corpus, ckpt.tokenizer)
    with torch.no_grad():
        logits, _ = ckpt.model(enc.input_ids[:corpus_rows], enc.attention_mask[:corpus_rows], enc.token_type_ids[:corpus_rows])
    return logits


def test_a_checkpoint_loads_into_either_engine_and_gives_the_same_logits(trained):
    lite, full = checkpoint.load(trained, engine="lite"), checkpoint.load(trained)
    assert isinstance(lite.model.backbone.bert, lite_bert.LiteBert)
    assert not isinstance(full.model.backbone.bert, lite_bert.LiteBert)
    a, b = _logits(lite), _logits(full)
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-4)
        assert torch.equal(a[name].argmax(-1), b[name].argmax(-1))


def test_a_pretrained_start_runs_on_the_lite_encoder(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(tmp_path / "bert")
    train(tiny(pretrained=str(tmp_path / "bert"), max_steps=5), small_corpus(), tmp_path / "run")
    lite, full = checkpoint.load(tmp_path / "run", engine="lite"), checkpoint.load(tmp_path / "run")
    assert isinstance(lite.model.backbone.bert, lite_bert.LiteBert)  # built from the stored BertConfig
    a, b = _logits(lite), _logits(full)
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)


def test_synth_exec_performs_the_same_with_either_engine(trained, capsys):
    runs = []
    for engine in ("lite", "transformers"):
        assert main(["exec", "--model", str(trained), "--program", "mul", "--inputs", "7,4", "--json", "--engine", engine]) == 0
        runs.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert runs[0] == runs[1] and runs[0]["matches_reference"]
