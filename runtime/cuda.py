"""The CUDA runtime: batches of runs on the GPU, one thread per run.

The kernels call the same ``fast_run`` body as the CPU runtime, compiled as a device
function. Three launchers:

- ``per_program``: P programs, each with its own code and memory (row-major data).
- ``columns``: one program over P memories (code of shape (1, n, fields)). Data is laid
  out (k, P), cell-major, so neighbouring threads touch neighbouring words: the loads and
  stores of a warp that runs in lockstep coalesce into one transaction.
- ``columns_local``: as ``columns`` when k is small: each thread copies its cells into a
  per-thread local array (interleaved across threads by the hardware, cached in L1),
  runs there, and copies them back.

The device copy of the code is the narrowest of uint8, int16, int32 and int64 that holds
its fields (addresses and opcodes, validated on load): a step reads a row, and 65,536
programs of 256 rows take 400 MB as int64 but 50 MB as uint8, which keeps more of them in
the L2 cache. Numba compiles one kernel per code type; the memory cells stay int64.

Timing covers the kernel alone: the kernels are compiled and the data copied to the
device before the clock starts, and copied back after it stops.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from isa.base import ISA, SynthError, shift_for
from isa.port import no_port
from runtime.cuda_support import cuda_module, require_cuda
from runtime.result import BatchResult

# A module global, not a local: the simulator swaps module-level ``cuda`` for its own.
cuda = cuda_module()
int64 = np.int64

THREADS_PER_BLOCK = 128
LOCAL_CELLS = 16  # columns_local runs machines of up to this many data cells

_kernels: dict[str, dict[str, Any]] = {}


def kernels(isa: ISA) -> dict[str, Any]:
    if isa.name in _kernels:
        return _kernels[isa.name]
    require_cuda()
    fn = cuda.jit(device=True)(isa.fast_run)

    @cuda.jit
    def per_program(code, data, n, k, pc, max_steps, shift, steps_out, status_out, pc_out, inp, out, io):  # noqa: ANN001
        p = cuda.grid(1)
        if p < data.shape[0]:
            c = code[p]
            r = fn(c[: n[p]], data[p, : k[p]], pc[p], max_steps, shift, None, inp, out, io)
            pc_out[p] = r[0]
            steps_out[p] = r[1]
            status_out[p] = r[2]

    @cuda.jit
    def columns(code, data_t, n, k, pc, max_steps, shift, steps_out, status_out, pc_out, inp, out, io):  # noqa: ANN001
        p = cuda.grid(1)
        if p < data_t.shape[1]:
            c = code[0]
            r = fn(c[: n[p]], data_t[: k[p], p], pc[p], max_steps, shift, None, inp, out, io)
            pc_out[p] = r[0]
            steps_out[p] = r[1]
            status_out[p] = r[2]

    @cuda.jit
    def columns_local(code, data_t, n, k, pc, max_steps, shift, steps_out, status_out, pc_out, inp, out, io):  # noqa: ANN001
        p = cuda.grid(1)
        if p < data_t.shape[1]:
            cells = cuda.local.array(LOCAL_CELLS, int64)
            kp = k[p]
            for j in range(kp):
                cells[j] = data_t[j, p]
            c = code[0]
            r = fn(c[: n[p]], cells[:kp], pc[p], max_steps, shift, None, inp, out, io)
            for j in range(kp):
                data_t[j, p] = cells[j]
            pc_out[p] = r[0]
            steps_out[p] = r[1]
            status_out[p] = r[2]

    _kernels[isa.name] = {"per_program": per_program, "columns": columns, "columns_local": columns_local}
    return _kernels[isa.name]


def code_dtype(code: np.ndarray) -> type:
    """The narrowest of uint8, int16, int32, int64 that holds every field of ``code``."""
    if code.size == 0:
        return np.uint8
    lo, hi = int(code.min()), int(code.max())
    if lo >= 0 and hi <= 255:
        return np.uint8
    for dtype in (np.int16, np.int32):
        if np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def choose_layout(code: np.ndarray, data: np.ndarray) -> str:
    if code.shape[0] == 1 and data.shape[0] > 1:
        return "columns_local" if data.shape[1] <= LOCAL_CELLS else "columns"
    return "per_program"


def run_batch_cuda(
    isa: ISA,
    code: np.ndarray,
    data: np.ndarray,
    n: np.ndarray,
    k: np.ndarray,
    pc: np.ndarray,
    *,
    max_steps: int,
    word_bits: int,
    layout: str | None = None,
    threads_per_block: int = THREADS_PER_BLOCK,
) -> BatchResult:
    """Run P machines on the GPU (arrays already validated by runtime.batch)."""
    require_cuda()
    layout = layout or choose_layout(code, data)
    if layout == "columns_local" and data.shape[1] > LOCAL_CELLS:
        raise SynthError(f"the columns_local layout holds at most {LOCAL_CELLS} data cells per run, not {data.shape[1]}")
    if layout not in ("per_program", "columns", "columns_local"):
        raise SynthError(f"unknown CUDA layout {layout!r} (per_program, columns, columns_local)")
    if layout != "per_program" and code.shape[0] != 1:
        raise SynthError(f"the {layout} layout runs one program over many memories: code must be (1, n, fields)")
    if not 1 <= threads_per_block <= 1024:
        raise SynthError(f"threads per block must lie in [1, 1024], not {threads_per_block}")
    kernel = kernels(isa)[layout]
    P = data.shape[0]
    dtype = code_dtype(code)
    if layout == "per_program" and code.shape[0] == 1 and P > 1:
        code = np.broadcast_to(code, (P, *code.shape[1:]))
    code = np.ascontiguousarray(code, dtype=dtype)
    host_data = np.ascontiguousarray(data.T if layout != "per_program" else data, dtype=np.int64)
    shift = shift_for(word_bits)
    inp, out, io = no_port()
    arrays = [code, host_data, n, k, pc]
    results = [np.zeros(P, np.int64) for _ in range(3)]

    # Compile on a one-run slice of the same types, outside the timing.
    one = [code[:1], np.ascontiguousarray(host_data[:, :1] if layout != "per_program" else host_data[:1]), n[:1], k[:1], pc[:1]]
    d_one = [cuda.to_device(np.ascontiguousarray(a)) for a in one]
    d_small = [cuda.to_device(np.zeros(1, np.int64)) for _ in range(3)]
    d_io = [cuda.to_device(a) for a in (inp, out, io)]
    kernel[1, 1](*d_one, 0, shift, *d_small, *d_io)
    cuda.synchronize()

    d_arrays = [cuda.to_device(np.ascontiguousarray(a)) for a in arrays]
    d_results = [cuda.to_device(r) for r in results]
    blocks = max(1, (P + threads_per_block - 1) // threads_per_block)
    cuda.synchronize()
    t0 = time.perf_counter()
    if P:
        kernel[blocks, threads_per_block](*d_arrays, max_steps, shift, *d_results, *d_io)
    cuda.synchronize()
    seconds = time.perf_counter() - t0
    final = d_arrays[1].copy_to_host()
    steps, status, pc_out = (d.copy_to_host() for d in d_results)
    final = np.ascontiguousarray(final.T) if layout != "per_program" else final
    return BatchResult(final, steps, pc_out, status, seconds)
