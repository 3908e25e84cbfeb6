"""A quick agreement check to run after touching a ``fast_run`` body or a launcher.

    NUMBA_ENABLE_CUDASIM=1 python benchmarks/agreement.py [--programs 40] [--max-steps 400]

For every ISA and word width (8, 16, 32, 64): random machines (ragged sizes, odd start pcs,
values at the wrap-around edges) run as a batch on the reference interpreter, the Numba CPU
runtime and the CUDA runtime (the simulator without a GPU), and one by one through
``run_cpu`` with a trace; everything must agree exactly (final memory, steps, pc, status,
trace). Then each body is compiled for the real CUDA target (typing and lowering; PTX too
where NVRTC is installed), since the simulator runs the bodies as plain Python and would not
notice numba.cuda refusing them.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root, if not installed

from common import same_results  # noqa: E402

from isa.base import WORD_BITS  # noqa: E402
from isa.registry import REGISTRY, get_isa  # noqa: E402
from runtime.batch import make_batch, pack_classic, run_batch  # noqa: E402
from runtime.cpu import run_cpu  # noqa: E402
from runtime.reference import run_reference  # noqa: E402


def word(rng: np.random.Generator, bits: int, size: int | tuple[int, ...]) -> np.ndarray:
    """Values in [-2^(w-1), 2^(w-1)): small ones, the edges, and anything."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = np.array([lo, lo + 1, -1, 0, 1, hi - 1, hi], dtype=np.int64)
    kind = rng.integers(0, 3, size)
    small = rng.integers(-5, 6, size)
    anything = rng.integers(lo, hi, size, dtype=np.int64, endpoint=True)
    return np.where(kind == 0, small, np.where(kind == 1, edges[rng.integers(0, len(edges), size)], anything))


def random_batch(isa_name: str, bits: int, P: int, rng: np.random.Generator) -> dict:
    isa = get_isa(isa_name)
    N, K = 48, 16
    n = rng.integers(1, N + 1, P)
    k = rng.integers(1, K + 1, P)
    code = np.zeros((P, N, isa.width), dtype=np.int64)
    data = word(rng, bits, (P, K))
    for p in range(P):
        rows = code[p, 1 : n[p]]
        if isa_name == "classic":  # code words are memory words: addresses, the port, halting targets
            size = 3 * n[p] + k[p]
            choice = rng.integers(0, 4, rows.shape)
            rows[:] = np.where(choice < 2, rng.integers(0, size + 2, rows.shape),
                               np.where(choice == 2, -1, word(rng, bits, rows.shape)))
            continue
        if isa_name == "ext":
            rows[:, 0] = rng.integers(0, len(isa.ops), len(rows))
            data[p, : k[p]] = np.where(rng.random(k[p]) < 0.6, rng.integers(-1, k[p] + 1, k[p]), data[p, : k[p]])
        rows[:, -3] = rng.integers(0, k[p], len(rows))
        rows[:, -2] = rng.integers(0, k[p], len(rows))
        rows[:, -1] = rng.integers(0, n[p], len(rows))
    if isa_name == "classic":
        size = 3 * n + k
        pc = np.where(rng.random(P) < 0.7, 0, rng.integers(0, size + 1))
    else:
        pc = np.where(rng.random(P) < 0.7, 1, rng.integers(0, n + 1))
    return dict(code=code, data=data, n=n, k=k, pc=pc, word_bits=bits)


def check_runtimes(programs: int, max_steps: int, seed: int) -> None:
    from runtime.cuda_support import cuda_available

    rng = np.random.default_rng(seed)
    devices = ("cpu", "cuda") if cuda_available() else ("cpu",)
    if "cuda" not in devices:
        print("no GPU and no NUMBA_ENABLE_CUDASIM=1: the CUDA runtime is not run")
    for name, isa in REGISTRY.items():
        for bits in WORD_BITS:
            t0 = time.perf_counter()
            batch = make_batch(isa, **random_batch(name, bits, programs, rng))
            ref = run_batch(batch, max_steps=max_steps, device="reference")
            for device in devices:
                same_results(f"{name} w={bits} batch: {device} vs reference", ref, run_batch(batch, max_steps=max_steps, device=device))
            # single runs, traced, against the reference's trace
            mems, _ = pack_classic(batch) if not isa.static_code else (None, None)
            for p in range(min(programs, 12)):
                if isa.static_code:
                    code, mem = batch.code[p, : batch.n[p]], batch.data[p, : batch.k[p]]
                else:
                    code, mem = np.zeros((0, 3), np.int64), mems[p, : 3 * batch.n[p] + batch.k[p]]
                kw = dict(pc=int(batch.pc[p]), max_steps=max_steps, word_bits=bits, trace=True)
                a, b = run_reference(isa, code, mem, **kw), run_cpu(isa, code, mem, **kw)
                assert (a.status, a.steps, a.pc) == (b.status, b.steps, b.pc), f"{name} w={bits} program {p}: run_cpu vs reference"
                assert np.array_equal(a.data, b.data) and np.array_equal(a.trace, b.trace), f"{name} w={bits} program {p}: memory/trace"
            statuses = np.bincount(ref.status, minlength=4).tolist()
            print(f"{name:8s} w={bits:2d}: {programs} programs, {ref.total_steps:6d} steps, statuses {statuses}: "
                  f"reference = {' = '.join(devices)} ({time.perf_counter() - t0:.1f} s)")


def check_cuda_compiles() -> None:
    """Compile every body as a CUDA device function, for the argument types the kernels give
    it: code (n, fields) C-contiguous; data a C-contiguous row (per_program, columns_local) or
    a strided column (columns)."""
    import os
    import subprocess

    from runtime.cuda_support import simulated

    if simulated():  # the simulator replaces numba.cuda in this process: compile in a fresh one
        env = {key: v for key, v in os.environ.items() if key != "NUMBA_ENABLE_CUDASIM"}
        subprocess.run([sys.executable, __file__, "--compile-only"], env=env, check=True)
        return
    from numba import types

    from runtime.cuda_support import cuda_module

    cuda = cuda_module()

    vec = types.Array(types.int64, 1, "C")
    for name, isa in REGISTRY.items():
        for layout in ("C", "A"):
            sig = (types.Array(types.int64, 2, "C"), types.Array(types.int64, 1, layout), types.int64, types.int64,
                   types.int64, types.none, vec, vec, vec)
            try:
                cuda.compile_ptx(isa.fast_run, sig, device=True, cc=(9, 0))
                how = "PTX"
            except Exception as e:  # noqa: BLE001
                # Typing and lowering come first; only then is NVRTC needed to emit PTX.
                if "nvrtc" not in str(e).lower():
                    raise
                how = "typed and lowered (no NVRTC here for the PTX)"
            print(f"CUDA target compile: {name} with data layout {layout}: {how}")

    # The kernels hand the body code[p][: n[p]] (or code[0][...]); subleq's body flattens it
    # with reshape, which numba.cuda allows on C-contiguous arrays only: check that slice.
    def code_slice(code, n, out):  # noqa: ANN001, ANN202
        p = cuda.grid(1)
        c = code[p][: n[p]]
        out[p] = c.reshape(c.size)[0]

    vec = types.Array(types.int64, 1, "C")
    try:
        cuda.compile_ptx(code_slice, (types.Array(types.int64, 3, "C"), vec, vec), cc=(9, 0))
    except Exception as e:  # noqa: BLE001
        if "nvrtc" not in str(e).lower():
            raise
    print("CUDA target compile: the kernels' code slice is C-contiguous (reshape accepted)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--programs", type=int, default=40)
    p.add_argument("--max-steps", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compile-only", action="store_true", help="only the CUDA target compile")
    args = p.parse_args()
    warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)  # the simulator's int64 wrap-around
    if not args.compile_only:
        check_runtimes(args.programs, args.max_steps, args.seed)
    check_cuda_compiles()
    if not args.compile_only:
        print("all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
