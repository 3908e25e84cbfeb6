"""The Numba CPU runtime: one run (optionally traced) and batches over all cores.

Each ISA's ``fast_run`` body is compiled here with ``numba.njit``; the CUDA runtime
compiles the same body as a device function. The launchers below are thin: they set up
arrays, call the body, and service its suspensions (input, output, trace buffers).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import prange

from isa.base import ISA, Status, shift_for
from isa.port import BytePort, no_port
from runtime.result import BatchResult, RunResult

TRACE_CHUNK = 1 << 16

_bodies: dict[str, Any] = {}
_batches: dict[str, Any] = {}


def body(isa: ISA) -> Any:
    """The ISA's run loop compiled for the CPU (cached on disk by numba)."""
    if isa.name not in _bodies:
        _bodies[isa.name] = numba.njit(cache=True, nogil=True)(isa.fast_run)
    return _bodies[isa.name]


def run_cpu(
    isa: ISA,
    code: np.ndarray,
    data: np.ndarray,
    *,
    pc: int | None = None,
    max_steps: int = 1_000_000_000,
    word_bits: int | None = None,
    trace: bool | Callable[[np.ndarray], None] = False,
    io: Any = None,
) -> RunResult:
    """Run one machine (see runtime.reference.run_reference for the arguments).

    ``trace`` may be a callable, which then receives the trace in chunks as the run goes
    (and the result holds none), so that long runs can be traced without keeping it all.
    ``io``: the byte port's host side (isa.port.BytePort), for an ISA that does I/O.
    """
    fn = body(isa)
    code = np.ascontiguousarray(code, dtype=np.int64)
    mem = np.array(data, dtype=np.int64, copy=True)
    shift = shift_for(word_bits or isa.default_word_bits)
    pc = isa.start_pc if pc is None else int(pc)
    sink = trace if callable(trace) else None
    chunks: list[np.ndarray] = []
    tbuf = np.zeros((TRACE_CHUNK, 3), dtype=np.int64) if trace else None
    port = BytePort(io)
    steps = 0
    while True:
        pc, done, status = fn(code, mem, pc, max_steps - steps, shift, tbuf, *port.arrays)
        steps += done
        if tbuf is not None and done:
            part = tbuf[:done].copy()
            if sink is not None:
                sink(part)
            else:
                chunks.append(part)
        port.flush()
        if status == Status.NEED_INPUT:
            port.refill()
        elif status not in (Status.OUTPUT_FULL, Status.TRACE_FULL):
            break
    if trace and sink is None:
        trace_rows = np.concatenate(chunks) if chunks else np.zeros((0, 3), dtype=np.int64)
    else:
        trace_rows = None
    return RunResult(Status(status), steps, int(pc), mem, trace_rows, port.output)


def _make_batch(fn: Any) -> Any:
    @numba.njit(parallel=True, cache=True)
    def batch(code, data, n, k, pc, max_steps, shift, steps_out, status_out, pc_out, inp, out, io):  # noqa: ANN001
        shared = code.shape[0] == 1
        for p in prange(data.shape[0]):
            c = code[0] if shared else code[p]
            r = fn(c[: n[p]], data[p, : k[p]], pc[p], max_steps, shift, None, inp, out, io)
            pc_out[p] = r[0]
            steps_out[p] = r[1]
            status_out[p] = r[2]

    return batch


def batch_launcher(isa: ISA) -> Any:
    if isa.name not in _batches:
        _batches[isa.name] = _make_batch(body(isa))
    return _batches[isa.name]


def run_batch_cpu(
    isa: ISA,
    code: np.ndarray,
    data: np.ndarray,
    n: np.ndarray,
    k: np.ndarray,
    pc: np.ndarray,
    *,
    max_steps: int,
    word_bits: int,
    threads: int | None = None,
    chunk: int = 8,
) -> BatchResult:
    """Run P machines in parallel over the cores, dynamically scheduled ``chunk`` at a
    time (random programs run for very different numbers of steps). Arrays must already
    be validated (runtime.batch does that); ``data`` is updated in place."""
    launch = batch_launcher(isa)
    P = data.shape[0]
    steps = np.zeros(P, np.int64)
    status = np.zeros(P, np.int64)
    pc_out = np.zeros(P, np.int64)
    inp, out, io = no_port()
    shift = shift_for(word_bits)
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        # Compile (or load from the cache) on a one-program copy, outside the timing.
        launch(code[:1], data[:1].copy(), n[:1], k[:1], pc[:1], 0, shift, steps[:1].copy(), status[:1].copy(),
               pc_out[:1].copy(), inp, out, io)
        with numba.parallel_chunksize(chunk):
            t0 = time.perf_counter()
            launch(code, data, n, k, pc, max_steps, shift, steps, status, pc_out, inp, out, io)
            seconds = time.perf_counter() - t0
    finally:
        if threads is not None:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return BatchResult(data, steps, pc_out, status, seconds)
