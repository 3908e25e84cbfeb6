"""Shared fixtures: the runtimes as a parametrised backend, and the GPU switch.

Without an NVIDIA device the CUDA kernels run in Numba's simulator (small batches
only); with one, they run on it and the ``gpu``-marked tests run too.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

import pytest

HAS_GPU = bool(glob.glob("/dev/nvidia[0-9]*")) and os.environ.get("NUMBA_ENABLE_CUDASIM", "0") in ("", "0")
if not HAS_GPU:
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
os.environ.setdefault("SYNTH_THREADS", "1")  # the commands' torch threads (see one_torch_thread below)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYNTH_SHARED", REPO.parent / "shared"))
EFORTH = SHARED / "data" / "subleq-eforth" / "subleq.dec"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAS_GPU:
        return
    skip = pytest.mark.skip(reason="needs a real CUDA GPU (none here; the simulator covers the kernels)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["reference", "cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    """The neural tests train tiny models: one torch thread is as fast, and on a machine
    whose cores are busy two threads can spin-wait on each other (we measured 25x slower)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
