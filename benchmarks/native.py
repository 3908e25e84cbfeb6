"""The C interpreters (benchmarks/c/): build them, feed them a batch, read their results.

The binaries are built with ``gcc -O2`` (and the flags below) into benchmarks/bin/
(git-ignored) whenever the source or this file is newer than the binary, so a fresh clone
rebuilds them on its first run. ``$CC`` picks another compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "c"
BIN = HERE / "bin"
MAGIC = int.from_bytes(b"SLEQBAT1", "little")
# -O2 as asked; -fno-if-conversion keeps the next-pc selection a branch (see subleq.c).
CFLAGS = ("-O2", "-fno-if-conversion", "-fno-if-conversion2", "-Wall", "-Wextra")


def build(name: str, cc: str | None = None) -> Path:
    """Compile benchmarks/c/NAME.c to benchmarks/bin/NAME if it is missing or stale."""
    src = SOURCES / f"{name}.c"
    exe = BIN / name
    cc = cc or os.environ.get("CC") or "gcc"
    if exe.exists() and exe.stat().st_mtime >= max(src.stat().st_mtime, Path(__file__).stat().st_mtime):
        return exe  # built from this source with these flags
    if shutil.which(cc) is None:
        raise RuntimeError(f"no C compiler {cc!r} on PATH (set CC)")
    BIN.mkdir(parents=True, exist_ok=True)
    subprocess.run([cc, *CFLAGS, "-o", str(exe), str(src)], check=True)
    return exe


def compiler_version(cc: str | None = None) -> str:
    cc = cc or os.environ.get("CC") or "gcc"
    try:
        return subprocess.run([cc, "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_batch(path: Path, code: np.ndarray, data: np.ndarray, n: np.ndarray, k: np.ndarray, pc: np.ndarray,
                max_steps: int, shift: int) -> None:
    """The input format of subleq.c: an int64 header, then code, data, n, k, pc."""
    P, K = data.shape
    Pc, N, fields = code.shape
    assert fields == 3 and Pc in (1, P)
    header = np.array([MAGIC, P, Pc, N, K, max_steps, shift, 0], dtype="<i8")
    with open(path, "wb") as f:
        for a in (header, code, data, n, k, pc):
            f.write(np.ascontiguousarray(a, dtype="<i8").tobytes())


@dataclass
class CResult:
    data: np.ndarray
    steps: np.ndarray
    pc: np.ndarray
    status: np.ndarray
    seconds: float

    @property
    def total_steps(self) -> int:
        return int(self.steps.sum())


def run_subleq(exe: Path, batch_file: Path, out_file: Path, P: int, K: int) -> CResult:
    proc = subprocess.run([str(exe), str(batch_file), str(out_file)], capture_output=True, text=True, check=True)
    report = json.loads(proc.stdout)
    raw = np.fromfile(out_file, dtype="<i8")
    data = raw[: P * K].reshape(P, K)
    steps, pc, status = (raw[P * K + i * P : P * K + (i + 1) * P] for i in range(3))
    assert int(steps.sum()) == report["steps"], "subleq.c: steps in its report and its result file differ"
    return CResult(data, steps, pc, status, float(report["seconds"]))


@dataclass
class CClassicResult:
    memory: np.ndarray
    steps: int
    status: int
    pc: int
    output: bytes
    seconds: float


def run_classic(exe: Path, image: Path, input_file: Path, out_file: Path, max_steps: int) -> CClassicResult:
    proc = subprocess.run([str(exe), str(image), str(input_file), str(out_file), str(max_steps)],
                          capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout)
    memory = np.fromfile(out_file, dtype="<i8")
    return CClassicResult(memory, int(r["steps"]), int(r["status"]), int(r["pc"]), bytes.fromhex(r["output_hex"]),
                          float(r["seconds"]))
