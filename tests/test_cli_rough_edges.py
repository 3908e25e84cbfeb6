"""What a new user hit (issue 10), each through the command line: exit statuses scripts can
trust, negative values, batches from program files, long work that shows itself and stops
cleanly, and no silent surprises."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from cli.main import main

GCD = str(REPO / "examples" / "gcd.sasm")
ADD = str(REPO / "examples" / "add.sasm")


def synth(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A tiny feed-forward Synthesizer that knows add and gcd exactly (ext)."""
    from neural.config import TrainConfig
    from neural.corpus import load_corpus
    from neural.train import train

    out = tmp_path_factory.mktemp("model") / "m"
    corpus = load_corpus([ADD, GCD], isa="ext")
    config = TrainConfig(backbone="mlp", hidden_size=96, intermediate_size=192, lr=0.01, until_exact=True, max_steps=1500,
                         eval_every=10, progress=False)
    assert train(config, corpus, out).exact
    return out


# -- exit statuses ------------------------------------------------------------------------------


def test_exec_exits_1_when_the_neural_run_is_not_the_reference(model, capsys):
    code, out, _ = synth(capsys, "exec", "--model", str(model), "--program", "gcd", "--inputs", "12,18", "--json")
    assert code == 0 and json.loads(out)["matches_reference"]
    # the network reads add's description but the run uses gcd's memory and reference: a different program
    code, out, _ = synth(capsys, "exec", "--model", str(model), "--program", "gcd", "--desc", "add two numbers",
                         "--inputs", "12,18", "--json", "--max-steps", "1000")
    obj = json.loads(out)
    assert not obj["matches_reference"] and code == 1


def test_test_on_a_missing_file_is_bad_input(capsys, tmp_path):
    code, _, err = synth(capsys, "test", str(tmp_path / "missing.sasm"))
    assert code == 2 and "no such file" in err


# -- negative numbers -----------------------------------------------------------------------------


def test_negative_values_after_inputs(model, capsys, monkeypatch):
    import io

    code, out, _ = synth(capsys, "run", ADD, "--inputs", "-7,3", "--json")
    assert code == 0 and json.loads(out)["outputs"] == {"sum": [-4]}
    code, out, _ = synth(capsys, "run", ADD, "--inputs", "-7,-3", "--set", "b=-5", "--json")
    assert json.loads(out)["outputs"] == {"sum": [-12]}
    code, out, _ = synth(capsys, "exec", "--model", str(model), "--program", "add", "--inputs", "-7,3", "--json")
    assert code == 0 and json.loads(out)["outputs"] == {"sum": [-4]}
    monkeypatch.setattr(sys, "stdin", io.StringIO("c\nq\n"))
    code, out, _ = synth(capsys, "debug", ADD, "--inputs", "-7,3")
    assert code == 0 and "outputs: sum = -4" in out


def test_too_few_inputs_is_an_error_as_too_many(capsys):
    for values in ("12", "1,2,3"):
        code, _, err = synth(capsys, "run", GCD, "--inputs", values)
        assert code == 2 and "input cells (a, b)" in err


# -- batches from program files -------------------------------------------------------------------


@pytest.mark.parametrize("isa", ["subleq", "classic"])
def test_batch_from_a_program_and_a_csv(capsys, tmp_path, isa):
    runs = tmp_path / "runs.csv"
    runs.write_text("a,b\n12,18\n35,14\n")
    code, out, err = synth(capsys, "batch", GCD, str(runs), str(tmp_path / "out.jsonl"), "--isa", isa)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["runs"] == 2 and summary["status"] == {"halted": 2, "fell_off": 0, "step_limit": 0, "bad_address": 0}
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["outputs"]["g"] for r in results] == [[6], [7]]


def test_batch_from_jsonl_exits_1_when_a_run_does_not_halt(capsys, tmp_path):
    runs = tmp_path / "runs.jsonl"
    runs.write_text('{"a": 12, "b": 18}\n{"a": -4, "b": 6}\n')
    code, out, _ = synth(capsys, "batch", GCD, str(runs), str(tmp_path / "out.jsonl"), "--max-steps", "5000")
    assert code == 1 and json.loads(out)["status"]["step_limit"] == 1
    arrays = tmp_path / "runs2.csv"
    arrays.write_text("bits\n1 0 1 1 0 0 0 1\n1;1;1;1;1;1;1;1\n")
    code, out, _ = synth(capsys, "batch", str(REPO / "examples" / "count_ones.sasm"), str(arrays), str(tmp_path / "o.jsonl"),
                         "--isa", "ext")
    assert code == 0 and [json.loads(x)["outputs"]["count"] for x in (tmp_path / "o.jsonl").read_text().splitlines()] == [[4], [8]]


@pytest.mark.parametrize("content, message", [
    ("a,b\n1\n", "1 values for 2 columns"),
    ("a,zz\n1,2\n", "unknown data label 'zz'"),
    ("", "the first line names the data labels"),
])
def test_bad_runs_files(capsys, tmp_path, content, message):
    runs = tmp_path / "runs.csv"
    runs.write_text(content)
    code, _, err = synth(capsys, "batch", GCD, str(runs), str(tmp_path / "out.jsonl"))
    assert code == 2 and message in err


# -- long work --------------------------------------------------------------------------------------


def test_exec_progress_and_ctrl_c_then_resume(model, capsys, monkeypatch, tmp_path):
    from cli import exec_cmd
    from neural import execute

    monkeypatch.chdir(tmp_path)
    shown = []
    progress = exec_cmd.Progress(after=0.0)
    monkeypatch.setattr(progress, "clock", lambda: 10.0)
    progress.next = 0.0
    progress(1234, 1)
    shown.append(capsys.readouterr().err)
    assert "1,234 neural steps" in shown[0]

    real = execute.perform_many
    calls = []

    def interrupted(predictor, jobs, max_steps, progress=None):  # Ctrl-C after 10 steps
        def stop(steps, live):
            if steps >= 10 and not calls:
                calls.append(steps)
                raise KeyboardInterrupt
        return real(predictor, jobs, max_steps, stop)

    monkeypatch.setattr(execute, "perform_many", interrupted)
    code, _, err = synth(capsys, "exec", "--model", str(model), "--program", "gcd", "--inputs", "1071,462")
    assert code == 130 and "interrupted after 10 neural steps" in err and "--resume synth-exec-gcd.state.json" in err
    monkeypatch.setattr(execute, "perform_many", real)
    code, out, err = synth(capsys, "exec", "--model", str(model), "--program", "gcd", "--inputs", "1071,462",
                           "--resume", "synth-exec-gcd.state.json", "--json")
    obj = json.loads(out)
    from compiler import compile_file
    from isa.convention import initial_data
    from runtime.run import run_program

    program = compile_file(GCD, isa="ext")
    whole = run_program(program, initial_data(program, inputs=[1071, 462])).steps
    assert code == 0 and obj["outputs"] == {"g": [21]} and obj["steps"] == whole - 10 and obj["matches_reference"]


def test_memorize_keeps_a_partial_trial_on_ctrl_c(capsys, monkeypatch, tmp_path):
    from neural import train as train_module
    from neural.experiments import memorize

    (tmp_path / "tiny.toml").write_text('backbone = "mlp"\nhidden_size = 64\nintermediate_size = 128\nlr = 0.005\nsave_every = 5\n')
    argv = ["experiment", "memorize", "--programs", "2", "--length", "16", "--seeds", "1", "--check-every", "5",
            "--max-steps", "600", "--config", str(tmp_path / "tiny.toml"), "--out", str(tmp_path / "o")]
    real = train_module.train

    def interrupt_at_7(config, corpus, out=None, **kw):
        def on_step(step):
            if step == 7:
                raise KeyboardInterrupt
        return real(config, corpus, out, on_step=on_step)

    monkeypatch.setattr(memorize, "train", interrupt_at_7)
    assert main(argv) == 130
    partial = tmp_path / "o" / "partial" / "N2-L16-seed0"
    assert (partial / "latest").read_text().strip() == "checkpoint-000007"
    monkeypatch.setattr(memorize, "train", real)
    assert main(argv) == 0
    assert not partial.exists() and len((tmp_path / "o" / memorize.TRIALS).read_text().splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ["dataset", "--random", "1180591620717411303424", "--out", "{tmp}/d"],
    ["experiment", "memorize", "--programs", "1180591620717411303424", "--out", "{tmp}/m"],
    ["train", "--random", "100000000000", "--out", "{tmp}/t"],
])
def test_sizes_beyond_memory_are_refused_at_once(capsys, tmp_path, argv):
    code, _, err = synth(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 2 and "GiB; this machine has" in err


# -- no silent surprises ------------------------------------------------------------------------------


def test_train_flags_that_contradict_the_checkpoint(model, capsys, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(model, run)
    code, _, err = synth(capsys, "train", ADD, GCD, "--isa", "ext", "--out", str(run), "--backbone", "bert", "--no-progress")
    assert code == 2 and "backbone = 'bert' (the run has 'mlp')" in err
    code, out, err = synth(capsys, "train", ADD, GCD, "--isa", "ext", "--out", str(run), "--max-steps", "3", "--no-progress")
    assert "nothing to do" in err
    (tmp_path / "file").write_text("x")
    code, _, err = synth(capsys, "train", ADD, "--isa", "ext", "--out", str(tmp_path / "file"), "--no-progress")
    assert code == 2 and "is a file, not a run directory" in err and "internal error" not in err


def test_plain_messages(capsys, tmp_path):
    (tmp_path / "x.npz").write_text("not a zip")
    code, _, err = synth(capsys, "batch", str(tmp_path / "x.npz"), str(tmp_path / "y.npz"), "--isa", "subleq")
    assert code == 2 and "not an .npz file" in err and "pickle" not in err
    code, _, err = synth(capsys, "run", str(tmp_path))
    assert code == 2 and "is a directory" in err
    code, out, _ = synth(capsys, "asm", GCD, "-o", str(tmp_path / "g.json"))
    code, out, err = synth(capsys, "asm", str(tmp_path / "g.json"), "--listing")
    assert code == 0 and out.startswith("; gcd: subleq") and "loop" in out


def test_files_get_the_users_umask(model, capsys, tmp_path):
    old = os.umask(0o022)
    try:
        synth(capsys, "asm", GCD, "-o", str(tmp_path / "g.json"))
        assert stat.S_IMODE((tmp_path / "g.json").stat().st_mode) == 0o644
        for f in ("latest",):
            assert stat.S_IMODE((model / f).stat().st_mode) == 0o644
        ckpt = model / (model / "latest").read_text().strip()
        for f in ("model.safetensors", "optimizer.safetensors", "config.json"):
            assert stat.S_IMODE((ckpt / f).stat().st_mode) == 0o644, f
        assert stat.S_IMODE(ckpt.stat().st_mode) == 0o755
    finally:
        os.umask(old)


def test_trace_into_head_exits_cleanly():
    r = subprocess.run(f"{sys.executable} -m cli.main run {GCD} --inputs 12,18 --trace | head -3", shell=True,
                       capture_output=True, text=True, cwd=REPO, timeout=60)
    assert len(r.stdout.splitlines()) == 3 and r.stdout.split()[0] == "step"
    assert "Traceback" not in r.stderr and "Error" not in r.stderr


def test_threads_flag(capsys, model):
    import torch

    before = torch.get_num_threads()
    try:
        code, _, _ = synth(capsys, "exec", "--model", str(model), "--program", "add", "--inputs", "1,2", "--threads", "1")
        assert code == 0 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
