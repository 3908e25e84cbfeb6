"""Batches of programs of one ISA: the ``.npz`` format, its validation, and running it.

Input ``.npz`` (spec/isa.md): ``code`` int64 (P, n, fields), or (1, n, fields) for one
program over P memories; ``data`` int64 (P, k); optional ``n``, ``k`` (P,) sizes, ``pc``
(P,) start rows, ``word_bits`` scalar. Output ``.npz``: the final ``data`` and (P,)
``steps``, ``pc``, ``status``.

For ``classic`` a program's memory is its code rows flattened (3 words each, from address
0) followed by its data: memory size 3 n_p + k_p, data from address 3 n_p; ``pc`` counts
in that memory and the final ``data`` is that program's data part.
"""

from __future__ import annotations

import io as _io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import ISA, SynthError, check_word_bits, wrap_array
from isa.registry import get_isa
from runtime.result import BatchResult

STATUS_NAMES = ("halted", "fell_off", "step_limit", "bad_address")


@dataclass
class Batch:
    isa: ISA
    code: np.ndarray  # (P or 1, n, fields)
    data: np.ndarray  # (P, k)
    n: np.ndarray  # (P,)
    k: np.ndarray  # (P,)
    pc: np.ndarray  # (P,)
    word_bits: int

    @property
    def programs(self) -> int:
        return int(self.data.shape[0])

    @property
    def shared_code(self) -> bool:
        return self.code.shape[0] == 1 and self.programs != 1


def make_batch(
    isa: ISA | str,
    code: Any,
    data: Any,
    *,
    n: Any = None,
    k: Any = None,
    pc: Any = None,
    word_bits: int | None = None,
    where: str = "batch",
) -> Batch:
    """Check shapes, sizes and every field against its domain, so that the compiled
    runtimes never index out of bounds on a static address."""
    isa = get_isa(isa) if isinstance(isa, str) else isa
    w = check_word_bits(int(word_bits if word_bits is not None else isa.default_word_bits))
    code = _int_array(code, f"{where}: code")
    data = _int_array(data, f"{where}: data")
    if code.ndim != 3 or code.shape[2] != isa.width:
        raise SynthError(f"{where}: code must be (P, n, {isa.width}) for {isa.name} {isa.field_names}, got shape {code.shape}")
    if data.ndim != 2:
        raise SynthError(f"{where}: data must be (P, k), got shape {data.shape}")
    P, N, K = data.shape[0], code.shape[1], data.shape[1]
    if code.shape[0] not in (1, P):
        raise SynthError(f"{where}: code holds {code.shape[0]} programs but data holds {P} memories (code may also hold 1)")
    n = _sizes(n, P, N, "n", where, 1 if isa.static_code else 0)
    k = _sizes(k, P, K, "k", where, 1)
    if pc is None:
        pc = np.full(P, isa.start_pc, dtype=np.int64)
    else:
        pc = _int_array(pc, f"{where}: pc")
        if pc.shape != (P,):
            raise SynthError(f"{where}: pc must have shape ({P},), got {pc.shape}")
    data = wrap_array(data, w, f"{where}: data")
    if isa.static_code:
        _check_static_code(isa, code, n, k, pc, where)
    else:
        code = wrap_array(code, w, f"{where}: code")
        if (pc < 0).any():
            raise SynthError(f"{where}: pc of program {int(np.flatnonzero(pc < 0)[0])} is negative")
    return Batch(isa, np.ascontiguousarray(code), np.ascontiguousarray(data), n, k, pc, w)


def _int_array(value: Any, what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise SynthError(f"{what} must be an integer array, not {arr.dtype}")
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and arr.size and int(arr.max()) >= 1 << 63:
        return arr.view(np.int64).copy()
    return arr.astype(np.int64, copy=False)


def _sizes(value: Any, P: int, full: int, name: str, where: str, least: int) -> np.ndarray:
    if value is None:
        if full < least:
            raise SynthError(f"{where}: {name} = {full}, but at least {least} is needed")
        return np.full(P, full, dtype=np.int64)
    arr = _int_array(value, f"{where}: {name}")
    if arr.shape != (P,):
        raise SynthError(f"{where}: {name} must have shape ({P},), got {arr.shape}")
    if P and (arr.min() < least or arr.max() > full):
        i = int(np.flatnonzero((arr < least) | (arr > full))[0])
        raise SynthError(f"{where}: {name}[{i}] = {int(arr[i])} must lie in [{least}, {full}]")
    return np.ascontiguousarray(arr)


def _check_static_code(isa: ISA, code: np.ndarray, n: np.ndarray, k: np.ndarray, pc: np.ndarray, where: str) -> None:
    """Every field of every live row (row < n_p) in its domain for program p. With one
    shared code block, program p sees its first n_p rows; prefix maxima along the rows
    check all programs at once."""
    P = n.shape[0]
    src = np.zeros(P, dtype=np.int64) if code.shape[0] == 1 else np.arange(P)
    if isa.check_halt_row is not None:
        for c in range(code.shape[0]):
            message = isa.check_halt_row(code[c, 0])
            if message:
                raise SynthError(f"{where}: program {c}: {message}, got {code[c, 0].tolist()}")
    live = np.arange(code.shape[1])[None, :] < n[:, None]  # (P, N)
    for j, f in enumerate(isa.fields):
        col = code[:, :, j]
        prefix_max = np.maximum.accumulate(col, axis=1)[src, n - 1]  # (P,): max over live rows
        prefix_min = np.minimum.accumulate(col, axis=1)[src, n - 1]
        hi = isa.domain_size(f.domain, n=n, k=k)  # arrays for data/code fields, an int for opcodes
        bad = (prefix_min < 0) | (prefix_max >= hi)
        if bad.any():
            p = int(np.flatnonzero(bad)[0])
            limit = int(np.broadcast_to(hi, (P,))[p])
            row = int(np.flatnonzero(live[p] & ((col[src[p]] < 0) | (col[src[p]] >= limit)))[0])
            raise SynthError(
                f"{where}: program {p} row {row} field {f.name!r} is {int(col[src[p], row])}, outside [0, {limit})"
            )
    if P and (pc < 0).any():
        raise SynthError(f"{where}: pc of program {int(np.flatnonzero(pc < 0)[0])} is negative")


# -- classic: code and data in one memory ------------------------------------------------------


def pack_classic(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Each program's one memory (code words then data) and its size 3 n_p + k_p."""
    P, N = batch.programs, batch.code.shape[1]
    mem = np.zeros((P, 3 * N + batch.data.shape[1]), dtype=np.int64)
    size = 3 * batch.n + batch.k
    shift = 64 - batch.word_bits
    for p in range(P):
        c = batch.code[0 if batch.code.shape[0] == 1 else p, : batch.n[p]].reshape(-1)
        mem[p, : c.size] = (c << shift) >> shift
        mem[p, c.size : c.size + batch.k[p]] = batch.data[p, : batch.k[p]]
    return mem, size


def unpack_classic(batch: Batch, mem: np.ndarray) -> np.ndarray:
    data = batch.data.copy()
    for p in range(batch.programs):
        base = 3 * int(batch.n[p])
        data[p, : batch.k[p]] = mem[p, base : base + batch.k[p]]
    return data


# -- running ---------------------------------------------------------------------------------


def run_batch(
    batch: Batch, *, max_steps: int = 1_000_000, device: str = "cpu", threads: int | None = None
) -> BatchResult:
    """Run every program of the batch on ``device`` ("cpu", "cuda" or "reference")."""
    if max_steps < 0:
        raise SynthError("--max-steps must be >= 0")
    isa = batch.isa
    code, data, k = batch.code, batch.data.copy(), batch.k
    n = batch.n
    if not isa.static_code:
        data, k = pack_classic(batch)
        code = np.zeros((1, 0, isa.width), dtype=np.int64)
        n = np.zeros(batch.programs, dtype=np.int64)
    if device == "cpu":
        from runtime.cpu import run_batch_cpu

        result = run_batch_cpu(isa, code, data, n, k, batch.pc, max_steps=max_steps, word_bits=batch.word_bits, threads=threads)
    elif device == "cuda":
        from runtime.cuda import run_batch_cuda

        result = run_batch_cuda(isa, code, data, n, k, batch.pc, max_steps=max_steps, word_bits=batch.word_bits)
    elif device == "reference":
        result = _run_batch_reference(isa, code, data, n, k, batch.pc, max_steps, batch.word_bits)
    else:
        raise SynthError(f"unknown device {device!r} (choose cpu, cuda or reference)")
    if not isa.static_code:
        result.data = unpack_classic(batch, result.data)
    return result


def _run_batch_reference(isa, code, data, n, k, pc, max_steps, word_bits) -> BatchResult:  # noqa: ANN001
    import time

    from runtime.reference import run_reference

    P = data.shape[0]
    steps, status, pc_out = (np.zeros(P, np.int64) for _ in range(3))
    t0 = time.perf_counter()
    for p in range(P):
        c = code[0 if code.shape[0] == 1 else p, : n[p]]
        r = run_reference(isa, c, data[p, : k[p]], pc=int(pc[p]), max_steps=max_steps, word_bits=word_bits)
        data[p, : k[p]] = r.data
        steps[p], status[p], pc_out[p] = r.steps, int(r.status), r.pc
    return BatchResult(data, steps, pc_out, status, time.perf_counter() - t0)


# -- files -----------------------------------------------------------------------------------


def load_batch(path: str | Path, isa: str, word_bits: int | None = None) -> Batch:
    """Read and validate an input ``.npz`` (no pickles: object arrays are refused)."""
    if Path(path).is_file() and not zipfile.is_zipfile(path):  # numpy would read it as a .npy, or try a pickle
        raise SynthError(f"{path}: not an .npz file (an .npz is a zip of arrays: code and data, see spec/isa.md)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except FileNotFoundError:
        raise SynthError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SynthError(f"{path}: is a directory") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise SynthError(f"{path}: not a readable .npz file ({str(e).splitlines()[0][:200] if str(e) else type(e).__name__})") from None
    for key in ("code", "data"):
        if key not in arrays:
            raise SynthError(f"{path}: missing array {key!r} (has: {', '.join(sorted(arrays)) or 'nothing'})")
    unknown = set(arrays) - {"code", "data", "n", "k", "pc", "word_bits"}
    if unknown:
        raise SynthError(f"{path}: unknown arrays {sorted(unknown)} (expected code, data, n, k, pc, word_bits)")
    if "word_bits" in arrays:
        wb = arrays["word_bits"]
        if wb.size != 1 or wb.dtype.kind not in "iu":
            raise SynthError(f"{path}: word_bits must be one integer")
        file_bits = int(wb.reshape(-1)[0])
        if word_bits is not None and word_bits != file_bits:
            raise SynthError(f"{path}: the file says word_bits = {file_bits} but --word-bits {word_bits} was given")
        word_bits = file_bits
    return make_batch(
        isa, arrays["code"], arrays["data"], n=arrays.get("n"), k=arrays.get("k"), pc=arrays.get("pc"),
        word_bits=word_bits, where=str(path),
    )


def save_results(path: str | Path, result: BatchResult) -> None:
    from isa.files import write_atomic

    buf = _io.BytesIO()
    np.savez(buf, data=result.data, steps=result.steps, pc=result.pc, status=result.status)
    write_atomic(path, buf.getvalue())
