"""What every registered ISA gets from its definition alone (docs/adding-an-isa.md): listed
by ``synth isa list``, neural heads sized from its domains, and random programs of it
memorised by a tiny Synthesizer and performed through the network as the reference runs
them. The runtimes' agreement, the compiler and the example table are covered by their
own tests, parametrised over the registry too."""

from __future__ import annotations

import pytest

from cli.main import main
from isa.registry import REGISTRY, static_isas
from neural.config import TrainConfig
from neural.corpus import random_corpus
from neural.execute import NetworkPredictor, perform
from neural.train import train


@pytest.mark.parametrize("name", list(REGISTRY))
def test_listed(name, capsys):
    assert main(["isa", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{name}: {REGISTRY[name].summary}" in out
    for f in REGISTRY[name].fields:
        assert f"field {f.name}" in out


@pytest.mark.parametrize("name", static_isas())
def test_a_tiny_memorisation(name):
    corpus = random_corpus(2, 8, seed=5, isa=name)
    config = TrainConfig(backbone="mlp", hidden_size=64, intermediate_size=128, lr=0.01, until_exact=True, max_steps=1500,
                         eval_every=10, progress=False)
    result = train(config, corpus)
    assert result.exact, result.instruction_accuracy
    sizes = corpus.spec.field_sizes(n=8, k=8)
    assert result.model.head_sizes() == sizes
    net = NetworkPredictor(result.model, result.tokenizer)
    for program in corpus.programs:
        perf = perform(net, program, corpus.descriptions(program)[0], mode="stepwise", max_steps=50)
        assert perf.matches_reference and perf.rows_matching == program.n
