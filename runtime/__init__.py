"""The runtimes: a program's machine run on the reference interpreter (the
specification), the Numba CPU runtime or the CUDA kernels; all three agree exactly.

    execute(program, {"a": 12, "b": 18})      -> RunResult (status, steps, pc, data, outputs)
    run_program(program, data, backend=...)   -> RunResult, from a whole data memory
    make_batch(isa, code, data) / load_batch(path, isa); run_batch(batch, device=...) -> BatchResult
    Session(program, data)                    the step debugger's run: step(), back()

Names are imported on first use, so ``import runtime`` stays cheap (no Numba until a run).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "execute": "runtime.run", "run_program": "runtime.run", "machine": "runtime.run", "BACKENDS": "runtime.run",
    "RunResult": "runtime.result", "BatchResult": "runtime.result",
    "Batch": "runtime.batch", "make_batch": "runtime.batch", "load_batch": "runtime.batch", "run_batch": "runtime.batch",
    "save_results": "runtime.batch", "STATUS_NAMES": "runtime.batch",
    "Session": "runtime.debugger", "StepRecord": "runtime.debugger",
    "run_reference": "runtime.reference",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'runtime' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
