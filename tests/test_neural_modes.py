"""Neural execution modes say what they do (neural/execute.py): stepwise asks the network at
every step, cached remembers each answer, extract runs the whole extracted program on the
fast runtime; the three agree on the example library for both backbones, and padding in a
batch of descriptions of different lengths changes no prediction."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from isa.convention import initial_data
from neural.config import TrainConfig
from neural.corpus import load_corpus
from neural.execute import Job, MemoPredictor, NetworkPredictor, extract, perform, perform_many
from neural.train import train

PROGRAMS = ["add", "gcd", "max_of_two", "negate", "sign", "swap"]


@pytest.fixture(scope="module", params=["mlp", "bert"])
def trained(request):
    corpus = load_corpus([str(REPO / "examples" / f"{p}.sasm") for p in PROGRAMS], isa="ext")
    if request.param == "mlp":
        config = TrainConfig(backbone="mlp", hidden_size=96, intermediate_size=192, lr=0.01, until_exact=True,
                             max_steps=1500, eval_every=10, progress=False)
    else:  # a BERT need not be exact for the modes to agree: 300 steps take it most of the way
        config = TrainConfig(backbone="bert", hidden_size=64, intermediate_size=128, num_layers=1, num_heads=2,
                             until_exact=True, max_steps=300, eval_every=25, progress=False)
    result = train(config, corpus)
    assert result.exact or request.param == "bert"
    result.model.eval()
    return corpus, result


class Counting(NetworkPredictor):
    def __init__(self, *a, **k) -> None:
        super().__init__(*a, **k)
        self.rows_asked = 0

    def rows(self, descriptions, instructions):  # noqa: ANN001, ANN201
        self.rows_asked += len(descriptions)
        return super().rows(descriptions, instructions)


def test_the_three_modes_agree_on_every_test(trained):
    corpus, result = trained
    for program in corpus.programs:
        text = corpus.descriptions(program)[0]
        for test in program.tests:
            data = initial_data(program, test.set)
            runs = {}
            for mode in ("stepwise", "cached", "extract"):
                net = Counting(result.model, result.tokenizer)
                predictor = MemoPredictor(net) if mode == "cached" else net
                perf = perform(predictor, program, text, data, mode=mode, max_steps=500)
                runs[mode] = (perf.result.status, perf.result.steps, perf.result.pc, perf.result.data.tolist(), net.rows_asked)
                assert perf.matches_reference or not result.exact
            status, steps = runs["stepwise"][:2]
            assert runs["stepwise"][:4] == runs["cached"][:4] == runs["extract"][:4]
            untaken = status.label == "bad_address"  # asked, then refused before it did anything: not a step
            assert runs["stepwise"][4] == program.n + steps + untaken  # extraction for rows_matching, then a row per step
            assert runs["cached"][4] <= runs["stepwise"][4]  # loops cost no call when remembered
            assert runs["extract"][4] == program.n  # one batched pass


def test_stepwise_batches_every_live_run_into_one_call(trained):
    corpus, result = trained
    gcd = corpus.program("gcd")
    jobs = [Job(gcd, corpus.descriptions(gcd)[0], initial_data(gcd, inputs=[a, b])) for a, b in [(12, 18), (7, 0), (1071, 462)]]
    net = NetworkPredictor(result.model, result.tokenizer)
    runs = perform_many(net, jobs, max_steps=2000)  # a BERT that is not exact may loop: bound it
    assert net.calls == max(r.result.steps for r in runs)  # one call per step, for all the runs still going
    if result.exact:
        assert [int(r.result.data[gcd.symbols["g"].address]) for r in runs] == [6, 7, 21]


def test_padding_changes_no_prediction(trained):
    corpus, result = trained
    net = NetworkPredictor(result.model, result.tokenizer)
    texts = [d for p in corpus.programs for d in corpus.descriptions(p)]
    lengths = [len(result.tokenizer.encode_description(t)) for t in texts]
    assert len(set(lengths)) > 3  # descriptions of many lengths
    n = corpus.max_n
    alone = {t: extract(net, t, n) for t in texts}
    together = net.rows([t for t in texts for _ in range(n)], [i for _ in texts for i in range(n)]).reshape(len(texts), n, -1)
    for t, rows in zip(texts, together, strict=True):
        assert np.array_equal(rows, alone[t]), t


def test_compiled_stepping_is_the_recorded_stepping(trained):
    """perform_many(record=False) steps every run in the ISA's compiled body (runtime/stepper.py):
    the same runs as the recorded path, including runs a wrong network sends astray."""
    from neural.execute import _Table

    corpus, result = trained
    net = NetworkPredictor(result.model, result.tokenizer)
    jobs = [Job(p, corpus.descriptions(p)[0], initial_data(p, t.set)) for p in corpus.programs for t in p.tests]
    jobs += [Job(p, corpus.descriptions(q)[0], initial_data(p, t.set)) for p in corpus.programs for q in corpus.programs
             for t in p.tests[:1] if p is not q]  # a description of another program: wrong rows, bad addresses, loops
    slow = perform_many(net, jobs, max_steps=300)
    fast = perform_many(net, jobs, max_steps=300, record=False)
    for j, a, b in zip(jobs, slow, fast, strict=True):
        assert (a.result.status, a.result.steps, a.result.pc) == (b.result.status, b.result.steps, b.result.pc), j.description
        assert np.array_equal(a.result.data, b.result.data)
    statuses = {r.result.status.label for r in slow}
    assert "halted" in statuses and len(statuses) > 1  # the wrong descriptions end otherwise
    # a row naming a cell outside the memory stops the run before it does anything
    add = corpus.program("add")
    bad = add.code.copy()
    bad[1, 1] = 99
    for record in (True, False):
        run = perform_many(_Table(bad), [Job(add, "", add.data)], record=record)[0]
        assert (run.result.status.label, run.result.steps, run.result.pc) == ("bad_address", 0, 1)
