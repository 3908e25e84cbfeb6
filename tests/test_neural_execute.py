"""Neural execution: a memorised program performed by the network equals its reference run."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from test_neural_data import mul_program
from test_neural_train import tiny

from cli.main import main
from isa.convention import initial_data
from neural import checkpoint
from neural.corpus import Corpus
from neural.execute import Job, NetworkPredictor, _Table, extract, first_divergence, perform, perform_many
from neural.train import train
from runtime.run import run_program


def add_program():
    """A second program: y = x + y, straight-line (halts at row 3)."""
    import numpy as np

    from isa.program import Program, Symbol

    return Program(isa="subleq", code=np.array([(0, 0, 0), (1, 0, 2), (0, 2, 3), (0, 0, 0)], dtype=np.int64),
                   data=np.array([0, 4, 9], dtype=np.int64), word_bits=64, name="add",
                   symbols={"x": Symbol(1, 1), "y": Symbol(2, 1)}, inputs=["x", "y"], outputs=["y"],
                   descriptions=["add x to y"]).validate()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("exec") / "run"
    corpus = Corpus("subleq", [mul_program(), add_program()])
    result = train(tiny(max_steps=800, until_exact=True), corpus, run)
    assert result.exact
    return run


@pytest.fixture(scope="module")
def predictor(model_dir):
    return NetworkPredictor.from_checkpoint(checkpoint.load(model_dir))


def test_stepwise_equals_the_reference(predictor):
    program = mul_program()
    data = initial_data(program, inputs=[7, 4])
    perf = perform(predictor, program, "x times i", data)
    reference = run_program(program, data, backend="reference")
    assert perf.matches_reference and perf.first_divergence is None
    assert perf.result.status == reference.status and perf.result.steps == reference.steps == 20
    assert perf.result.data.tolist() == reference.data.tolist() and perf.result.data[3] == 28
    assert perf.rows_matching == program.n
    calls = predictor.calls
    perform(predictor, program, "x times i", data)
    assert predictor.calls - calls == 1 + 20  # one extraction pass, then one call per step


def test_extract_mode_runs_the_whole_program(predictor):
    program = add_program()
    perf = perform(predictor, program, "add x to y", mode="extract")
    assert perf.matches_reference and perf.result.data[2] == 13
    assert perf.extracted.tolist() == program.code.tolist()


def test_many_runs_at_once_one_call_per_step(predictor):
    program = mul_program()
    jobs = [Job(program, "multiply x by i", initial_data(program, inputs=[x, i])) for x, i in [(2, 1), (3, 5), (-4, 2), (10, 9)]]
    calls = predictor.calls
    runs = perform_many(predictor, jobs)
    longest = max(r.result.steps for r in runs)
    assert predictor.calls - calls == longest  # not one call per run and step
    for job, run in zip(jobs, runs, strict=True):
        ref = run_program(program, job.data, backend="reference", trace=True)
        assert run.result.data.tolist() == ref.data.tolist()
        assert run.result.trace.tolist() == ref.trace.tolist()
    assert [int(r.result.data[3]) for r in runs] == [2, 15, -8, 90]


def test_a_wrong_model_diverges_where_it_should(predictor):
    # The network memorised mul; the reference here has row 2 write X instead of ACC.
    program = mul_program()
    wrong = mul_program()
    wrong.code[2] = (5, 4, 3)
    perf = perform(predictor, wrong, "x times i")
    assert not perf.matches_reference
    assert perf.first_divergence == 2  # step 1 runs row 1, step 2 runs row 2
    assert perf.rows_matching == program.n - 1
    # A table with a wrong branch target: the run leaves the reference on the step after.
    table = program.code.copy()
    table[4] = (1, 2, 5)  # I -= 1; if I <= 0 goto 5 (loops again) instead of 6
    run = perform_many(_Table(table), [Job(program, "", program.data)], max_steps=100)[0]
    ref = run_program(program, program.data, backend="reference", trace=True)
    expected = next(i for i, (pc, _, v) in enumerate(ref.trace.tolist()) if pc == 4 and v <= 0) + 2
    assert first_divergence(run.result, ref, ref.trace) == expected


def test_bad_address_from_the_network_stops_the_run():
    program = add_program()
    table = program.code.copy()
    table[2] = (0, 9, 3)  # cell 9 is outside the 3-cell memory
    run = perform_many(_Table(table), [Job(program, "", program.data)])[0]
    assert run.result.status.label == "bad_address" and run.result.steps == 1 and run.result.pc == 2


def test_cli_exec_json(model_dir, capsys):
    assert main(["exec", "--model", str(model_dir), "--program", "mul", "--inputs", "6,3", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"status", "steps", "pc", "outputs", "memory", "matches_reference", "first_divergence", "program",
            "rows_matching"} <= set(obj)
    assert obj["outputs"] == {"acc": [18]} and obj["matches_reference"] and obj["first_divergence"] is None
    assert obj["program"] == "mul" and obj["rows_matching"] == 7

    assert main(["exec", "--model", str(model_dir), "--desc", "add x to y", "--set", "x=5", "--mode", "extract"]) == 0
    out = capsys.readouterr().out
    assert "y = 14" in out and "the network's program for add" in out

    # an unseen text: this model has no program slots, so the stored program the network's program
    # matches in the most rows supplies the memory; the exit status says whether the run was that program's
    code = main(["exec", "--model", str(model_dir), "--desc", "something else entirely", "--json", "--max-steps", "50"])
    captured = capsys.readouterr()
    obj = json.loads(captured.out.strip().splitlines()[-1])
    ckpt = checkpoint.load(model_dir)
    net = NetworkPredictor.from_checkpoint(ckpt)
    code_rows = extract(net, "something else entirely", ckpt.corpus.max_n)
    matches = {p.name: int((code_rows[: p.n] == p.code).all(axis=1).sum()) for p in ckpt.corpus.programs}
    best = max(matches.values())
    assert obj["program"] == next(n for n, m in matches.items() if m == best)  # most rows in common, the first of equals
    assert obj["rows_matching"] == best and "never refused" in captured.err
    assert code == (0 if obj["status"] == "halted" and obj["matches_reference"] else 1)
    assert code == 1 or obj["first_divergence"] is None

    assert main(["exec", "--model", str(model_dir), "--program", "add", "--trace"]) == 0
    out = capsys.readouterr().out
    assert "pc 1" in out and "[0] = -4" in out

    assert main(["exec", "--model", str(model_dir), "--program", "nope"]) == 2
    assert "knows no program 'nope'" in capsys.readouterr().err
    assert main(["exec", "--model", str(model_dir)]) == 2
    assert "--program NAME, --desc TEXT" in capsys.readouterr().err
    assert main(["exec", "--model", str(model_dir / "missing"), "--program", "mul"]) == 2
    assert "no such model directory" in capsys.readouterr().err


def test_stepwise_run_of_a_large_budget_stops_at_the_limit(predictor):
    program = mul_program()
    perf = perform(predictor, program, "x times i", np.array(program.data), max_steps=5)
    assert perf.result.status.label == "step_limit" and perf.result.steps == 5 and perf.matches_reference


def test_ext_programs_are_learned_and_performed():
    from neural.corpus import random_corpus

    corpus = random_corpus(2, 16, seed=5, isa="ext", k=8)
    result = train(tiny(max_steps=800, until_exact=True, backbone="mlp"), corpus)
    assert result.exact
    net = NetworkPredictor(result.model.eval(), result.tokenizer)
    for program in corpus.programs:
        perf = perform(net, program, f"[prog:{program.name}]", max_steps=200)
        reference = run_program(program, program.data, backend="reference", max_steps=200)
        assert perf.matches_reference and perf.result.status == reference.status
        assert perf.result.data.tolist() == reference.data.tolist()


@pytest.mark.parametrize("rows_changed", [0, 1])
def test_compare_on_the_reference_and_on_numba_agree(monkeypatch, rows_changed):
    """A short run is checked on the Python reference, a long one on Numba: same answer."""
    from compiler import compile_file
    from neural import execute
    from neural.execute import NeuralRun, compare

    program = compile_file("examples/gcd.sasm", isa="ext")
    data = initial_data(program, {"a": [12], "b": [18]})
    code = program.code.copy()
    if rows_changed:
        code[2] = code[1]  # a network that gives row 1 again at C_t = 2
    neural = run_program(dataclasses.replace(program, code=code), data, backend="reference", max_steps=500, trace=True)
    run = NeuralRun(neural)
    quick = compare(program, data, run, 10_000)
    monkeypatch.setattr(execute, "QUICK_STEPS", 0)
    slow = compare(program, data, run, 10_000)
    assert quick[1] == slow[1]
    assert (quick[1] is None) == (rows_changed == 0)
    assert (quick[0].status, quick[0].steps, quick[0].pc) == (slow[0].status, slow[0].steps, slow[0].pc)
    assert np.array_equal(quick[0].data, slow[0].data)


def test_mixed_precision_only_where_it_changes_no_row(model_dir, monkeypatch):
    ckpt = checkpoint.load(model_dir)
    assert NetworkPredictor.from_checkpoint(ckpt).precision == "float32"  # the CPU's default
    net = NetworkPredictor.from_checkpoint(ckpt, mixed_precision=True)  # checked on every row of the corpus
    program = mul_program()
    full = NetworkPredictor.from_checkpoint(ckpt)
    texts, pcs = ["x times i"] * program.n, list(range(program.n))
    if net.precision == "bfloat16":  # then it gives the float32 rows, which are the program
        assert np.array_equal(net.rows(texts, pcs), full.rows(texts, pcs))
        assert np.array_equal(net.rows(texts, pcs), program.code)
    # A network whose bfloat16 argmax differs from its float32 one on one row: kept in float32.
    real = ckpt.model.predict

    def skewed(**inputs):
        out = real(**inputs)
        if torch.is_autocast_enabled("cpu"):
            out = out.clone()
            out[0, 0] += 1
        return out

    monkeypatch.setattr(ckpt.model, "predict", skewed)
    assert not full.check_precision(texts, pcs) and full.precision == "float32"
    assert np.array_equal(full.rows(texts, pcs), program.code)
    monkeypatch.setattr(ckpt.model, "predict", real)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = full.rows(texts, pcs)  # bfloat16 by hand
    assert full.check_precision(texts, pcs) == np.array_equal(half, program.code)
