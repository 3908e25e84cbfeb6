"""The neural layer on CUDA (marked ``gpu``: skipped without a real GPU, run by
benchmarks/gpu.sh on one): training on the device, the three execution modes there giving
the reference run, and DistributedDataParallel over two GPUs with torchrun (nccl) when the
machine has two."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.gpu


def test_train_and_perform_on_cuda(tmp_path):
    import torch

    from compiler import compile_file
    from isa.convention import initial_data
    from neural.config import TrainConfig
    from neural.corpus import Corpus
    from neural.execute import NetworkPredictor, perform
    from neural.train import train

    program = compile_file(REPO / "examples" / "gcd.sasm", isa="ext")
    program.name = "gcd"
    config = TrainConfig(backbone="bert", hidden_size=64, intermediate_size=128, num_layers=2, num_heads=2, until_exact=True,
                         max_steps=3000, device="cuda", progress=False)
    result = train(config, Corpus(isa="ext", programs=[program]), tmp_path / "run")
    assert result.exact and next(result.model.parameters()).device.type == "cuda"
    predictor = NetworkPredictor(result.model, result.tokenizer, "cuda")
    data = initial_data(program, {"a": [12], "b": [18]})
    for mode in ("stepwise", "cached", "extract"):
        run = perform(predictor, program, program.descriptions[0], data, mode=mode, max_steps=10_000)
        assert run.matches_reference, mode
    assert torch.cuda.max_memory_allocated() > 0
    from neural import checkpoint

    loaded = NetworkPredictor.from_checkpoint(checkpoint.load(tmp_path / "run", "cuda"))  # bfloat16 where checked equal
    assert loaded.precision in ("bfloat16", "float32")
    rows = loaded.rows([program.descriptions[0]] * program.n, list(range(program.n)))
    assert (rows == program.code).all(), loaded.precision


@pytest.mark.skipif(shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None, reason="torchrun is not installed")
def test_torchrun_on_two_gpus(tmp_path):
    import torch

    if torch.cuda.device_count() < 2:
        pytest.skip("one GPU: the two-process test on the CPU (tests/test_neural_distributed.py) covers the rest")
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    (tmp_path / "tiny.toml").write_text('backbone = "mlp"\nhidden_size = 48\nintermediate_size = 96\nmax_steps = 20\n')
    r = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "-m", "cli.main", "train", "--random", "3",
                        "--length", "16", "--config", str(tmp_path / "tiny.toml"), "--device", "cuda", "--out",
                        str(tmp_path / "run"), "--no-progress"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["steps"] == 20
