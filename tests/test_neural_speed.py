"""benchmarks/neural_speed.py's GPU rows (d, e), walked on the CPU: the extraction timing on
a trained BERT checkpoint, the table with and without a GPU record, and a clear refusal of
``--device cuda`` where torch sees no GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import neural_speed  # noqa: E402


def test_extraction_time_reads_a_whole_program(tmp_path):
    from neural.config import TrainConfig
    from neural.corpus import random_corpus
    from neural.train import train

    config = TrainConfig(backbone="bert", hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2, max_steps=5,
                         eval_every=5, progress=False)
    train(config, random_corpus(1, 24, seed=0), tmp_path / "run")
    e = neural_speed.extraction_time(tmp_path / "run", repeat=2)
    assert e["program_rows"] == 24 and 0 <= e["rows_matching"] <= 24 and e["seconds"] > 0 and e["target_seconds"] == 0.05


def _record(gpu):
    row = {"runs": 10, "steps_per_run": 5, "stepwise_steps_per_second": 2e5, "forward_rows_per_second": 2.2e5, "ratio": 0.91,
           "target": 0.8}
    ext = {"steps": 100, "extract_steps_per_second": 1e8, "native_steps_per_second": 1e8, "ratio": 1.0, "target": 0.5}
    return {"stepwise": {"bert": row}, "extract": {"bert": ext}, "gpu": gpu, "repeat": 3, "threads": 2, "other_load_cores": 0.0,
            "startup": {"exec_seconds": 1.0, "import_seconds": 2.0, "ratio": 0.5, "target": 2.0},
            "environment": {"cpu": "c", "nproc": 2, "date": "d", "commit": "x"}}


def test_the_table_says_not_measured_until_a_gpu_record_exists():
    table = neural_speed.markdown(_record(neural_speed.GPU))
    assert table.count("not measured: no GPU lent") == 2
    gpu = {"device": "NVIDIA H200", "date": "d2", "commit": "y", "repeat": 3,
           "stepwise": {"runs": 10_000, "steps_per_run": 50, "stepwise_steps_per_second": 1.5e5,
                        "forward_rows_per_second": 1.6e5, "ratio": 0.94},
           "extract": {"program_rows": 1024, "seconds": 0.012, "rows_matching": 1024, "target_seconds": 0.05}}
    table = neural_speed.markdown(_record(gpu))
    assert "not measured" not in table
    assert "| (d) NVIDIA H200: stepwise with BERT, 10,000 concurrent runs, network-predicted steps/s | 150,000 steps/s |" in table
    assert "| (e) NVIDIA H200: extraction of a 1,024-row program (1,024 rows as compiled) | 12.0 ms | | | < 50 ms (met) |" in table
    gpu["extract"]["seconds"] = 0.07
    assert "< 50 ms (not met)" in neural_speed.markdown(_record(gpu))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_device_cuda_without_a_gpu_is_refused_clearly():
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "neural_speed.py"), "--parts", "gpu", "--device", "cuda"],
                       capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode != 0 and "needs a CUDA GPU" in r.stderr and "Traceback" not in r.stderr
