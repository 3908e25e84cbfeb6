"""Training on two CPU processes (neural/distributed.py: torch.distributed, gloo,
DistributedDataParallel): both ranks end with the same weights, equal within floating-point
tolerance to one process with the same global batch; a two-process run resumed from its
checkpoint ends where an uninterrupted one does; and `torchrun ... synth train` runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import REPO
from safetensors.torch import load_file

SCRIPT = textwrap.dedent("""
    import sys
    import torch
    from safetensors.torch import save_file
    sys.path.insert(0, {repo!r})
    torch.set_num_threads(1)
    from neural.config import TrainConfig
    from neural.corpus import random_corpus
    from neural.train import train
    corpus = random_corpus(4, 24, seed=3)
    config = TrainConfig(backbone="mlp", hidden_size=48, intermediate_size=96, batch_size=30, lr=0.005, max_steps={steps},
                         eval_every=10, save_every=10**9, progress=False, seed=1)
    result = train(config, corpus, {out!r})
    import os
    rank = os.environ.get("RANK", "single")
    save_file({{k: v.contiguous() for k, v in result.model.state_dict().items()}}, {dump!r} + f"/weights{tag}-{{rank}}.safetensors")
    print(result.instruction_accuracy, result.steps)
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(tmp_path, world: int, steps: int = 40, name: str = "") -> list[subprocess.CompletedProcess]:
    """``world`` processes training into ``tmp_path/run-WORLD{name}`` for ``steps`` steps (resuming
    a checkpoint there); each rank's weights in ``tmp_path/weights{name}-RANK.safetensors``."""
    out = tmp_path / f"run-{world}{name}"
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(repo=str(REPO), out=str(out), dump=str(tmp_path), steps=steps, tag=name))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
           "WORLD_SIZE": str(world)}
    if world == 1:
        env.pop("WORLD_SIZE")
        return [subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240)]
    procs = [subprocess.Popen([sys.executable, str(script)], env={**env, "RANK": str(r), "LOCAL_RANK": str(r)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(world)]
    done = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a rank did not finish within 240 s")
        done.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return done


def test_two_processes_train_as_one(tmp_path):
    two = run_ranks(tmp_path, 2)
    for r in two:
        assert r.returncode == 0, r.stderr[-2000:]
    one = run_ranks(tmp_path, 1)
    assert one[0].returncode == 0, one[0].stderr[-2000:]
    w0, w1 = (load_file(str(tmp_path / f"weights-{r}.safetensors")) for r in (0, 1))
    single = load_file(str(tmp_path / "weights-single.safetensors"))
    for name in single:
        assert torch.equal(w0[name], w1[name]), name  # the ranks agree exactly
        assert torch.allclose(w0[name], single[name], rtol=1e-4, atol=1e-5), name  # and are the one-process run
    # only rank 0 wrote the run: one checkpoint, one metrics file of 4 evaluations
    metrics = (tmp_path / "run-2" / "metrics.jsonl").read_text().splitlines()
    assert len(metrics) == 4 and json.loads(metrics[-1])["step"] == 40
    assert (tmp_path / "run-2" / "latest").read_text().strip() == "checkpoint-000040"
    assert [json.loads(line)["instruction_accuracy"] for line in metrics] == pytest.approx(
        [json.loads(line)["instruction_accuracy"] for line in (tmp_path / "run-1" / "metrics.jsonl").read_text().splitlines()])


def test_a_two_process_run_resumes_where_it_stopped(tmp_path):
    whole = run_ranks(tmp_path, 2)
    first = run_ranks(tmp_path, 2, steps=20, name="-resumed")  # stops at 20 with a checkpoint ...
    second = run_ranks(tmp_path, 2, steps=40, name="-resumed")  # ... which both ranks resume to 40
    for r in whole + first + second:
        assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "run-2-resumed" / "latest").read_text().strip() == "checkpoint-000040"
    w0, w1 = (load_file(str(tmp_path / f"weights-resumed-{r}.safetensors")) for r in (0, 1))
    reference = load_file(str(tmp_path / "weights-0.safetensors"))
    for name in reference:
        assert torch.equal(w0[name], w1[name]), name
        assert torch.allclose(w0[name], reference[name], rtol=1e-5, atol=1e-6), name
    metrics = [json.loads(line) for line in (tmp_path / "run-2-resumed" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [10, 20, 30, 40]


@pytest.mark.skipif(shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None, reason="torchrun is not installed")
def test_torchrun_runs_synth_train(tmp_path):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    (tmp_path / "tiny.toml").write_text('backbone = "mlp"\nhidden_size = 48\nintermediate_size = 96\nmax_steps = 20\n')
    r = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "--no-python", os.path.join(os.path.dirname(sys.executable), "synth"),
                        "train", "--random", "3", "--length", "16", "--config", str(tmp_path / "tiny.toml"), "--out",
                        str(tmp_path / "run"), "--no-progress"],
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=240, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len(r.stdout.strip().splitlines()) == 1 and json.loads(r.stdout)["steps"] == 20  # rank 0 alone prints
    assert (tmp_path / "run" / "latest").read_text().strip() == "checkpoint-000020"
