"""Importing numba.cuda safely, in one place.

numba-cuda 0.30 uses ``numpy.row_stack``, which numpy 2.5 removed (it was an alias of
``numpy.vstack`` since numpy 1.x). On such a machine ``import numba.cuda`` fails, so we
put the alias back before importing it. Everything CUDA in this project imports
numba.cuda through ``cuda_module()``.

Without a GPU, set NUMBA_ENABLE_CUDASIM=1 to run the kernels in Numba's CUDA simulator
(slow, for tests on small batches).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from isa.base import SynthError

_cuda: Any = None


def _restore_numpy_aliases() -> None:
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack  # type: ignore[attr-defined]


def cuda_module() -> Any:
    """numba.cuda, imported once with the numpy guard applied."""
    global _cuda
    if _cuda is None:
        _restore_numpy_aliases()
        try:
            from numba import cuda
        except ImportError as e:  # numba-cuda missing or broken
            raise SynthError(f"CUDA support is not installed ({e}); pip install numba-cuda") from None
        _cuda = cuda
    return _cuda


def simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


def cuda_available() -> bool:
    """True when kernels can run: a real GPU, or the simulator."""
    try:
        cuda = cuda_module()
    except SynthError:
        return False
    if simulated():
        return True
    try:
        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver is "not available"
        return False


def require_cuda() -> Any:
    cuda = cuda_module()
    if not cuda_available():
        raise SynthError("no CUDA GPU is available (set NUMBA_ENABLE_CUDASIM=1 to use the simulator)")
    return cuda
