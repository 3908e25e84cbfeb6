"""The three benchmark workloads of spec/isa.md ("Benchmark workloads"), as batches.

Each generator returns a ``Workload``: a batch in the ``.npz`` layout of spec/isa.md
(code (P or 1, n, 3), data (P, k), n, k, pc; paper subleq, 64-bit words), the step
budget per run, and a ``check`` that asserts the final memories are what the program
computes (so a runtime that computes something else fails loudly, whatever its speed).

- (a) ``loop``: the 12-row double loop, one run of R (5 b + 4) steps, ACC = X b at the end.
- (b) ``random``: P random programs, n = k = 256, each to halt or 10,000 steps.
- (c) ``multiply``: one shared program over P memories of k = 8 cells: b additions of x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

WORD_BITS = 64


@dataclass
class Workload:
    name: str
    description: str
    code: np.ndarray  # int64 (P, n, 3), or (1, n, 3) shared by every run
    data: np.ndarray  # int64 (P, k)
    max_steps: int
    check: Callable[[np.ndarray, np.ndarray, np.ndarray], None]  # (final data, steps, status)
    params: dict = field(default_factory=dict)

    @property
    def programs(self) -> int:
        return int(self.data.shape[0])

    @property
    def n(self) -> np.ndarray:
        return np.full(self.programs, self.code.shape[1], dtype=np.int64)

    @property
    def k(self) -> np.ndarray:
        return np.full(self.programs, self.data.shape[1], dtype=np.int64)

    @property
    def pc(self) -> np.ndarray:
        return np.ones(self.programs, dtype=np.int64)


# -- (a) the loop ---------------------------------------------------------------------------

Z, ONE, I, J, NEGB, ACC, X, T = range(8)  # noqa: E741 - the cell names of spec/isa.md
LOOP_ROWS = [
    (0, 0, 0),  # 0: HALT
    (ACC, ACC, 2),  # 1: ACC = 0
    (J, J, 3),  # 2: J = 0
    (NEGB, J, 4),  # 3: J = b
    (X, T, 5),  # 4: T = -X
    (T, ACC, 6),  # 5: ACC += X
    (T, T, 7),  # 6: T = 0
    (ONE, J, 9),  # 7: J -= 1; J <= 0: to 9
    (Z, Z, 4),  # 8: to 4
    (ONE, I, 11),  # 9: I -= 1; I <= 0: to 11
    (Z, Z, 1),  # 10: to 1
    (Z, Z, 0),  # 11: halt
]


def loop(b: int = 1000, R: int = 20000, x: int = 7) -> Workload:
    """(a): one run of the 12-row loop: R (5 b + 4) steps (100,080,000 by default)."""
    code = np.array([LOOP_ROWS], dtype=np.int64)
    data = np.array([[0, 1, R, 0, -b, 0, x, 0]], dtype=np.int64)
    expected_steps = R * (5 * b + 4)

    def check(final: np.ndarray, steps: np.ndarray, status: np.ndarray) -> None:
        assert int(status[0]) == 0, f"(a) did not halt: status {int(status[0])}"
        assert int(steps[0]) == expected_steps, f"(a) ran {int(steps[0])} steps, not {expected_steps}"
        assert int(final[0, ACC]) == x * b, f"(a) ACC = {int(final[0, ACC])}, not {x * b}"
        assert int(final[0, I]) == 0 and int(final[0, J]) == 0, "(a) counters did not reach 0"

    return Workload("a", f"(a) loop: 12 rows, b = {b}, R = {R}, X = {x}", code, data, 1_000_000_000, check,
                    {"b": b, "R": R, "X": x, "expected_steps": expected_steps})


# -- (b) random programs ------------------------------------------------------------------------


def random_programs(programs: int = 10_000, n: int = 256, k: int = 256, max_steps: int = 10_000, seed: int = 1) -> Workload:
    """(b): random paper-subleq programs: row 0 (0, 0, 0); rows 1..n-1 with A, B uniform in
    [0, k) and C uniform in [0, n); data uniform in [-1000, 1000]; seeded."""
    rng = np.random.default_rng(seed)
    code = np.zeros((programs, n, 3), dtype=np.int64)
    code[:, 1:, 0] = rng.integers(0, k, size=(programs, n - 1))
    code[:, 1:, 1] = rng.integers(0, k, size=(programs, n - 1))
    code[:, 1:, 2] = rng.integers(0, n, size=(programs, n - 1))
    data = rng.integers(-1000, 1001, size=(programs, k), dtype=np.int64)

    def check(final: np.ndarray, steps: np.ndarray, status: np.ndarray) -> None:
        # No closed form for random programs: runtimes are checked against each other
        # (and, on a sample, against the reference); here only the invariants.
        assert ((status == 0) | (status == 1) | (status == 2)).all(), "(b) unexpected status"
        assert (steps <= max_steps).all() and (steps[status == 2] == max_steps).all(), "(b) bad step counts"

    return Workload("b", f"(b) random: {programs:,} programs, n = k = {n}, to halt or {max_steps:,} steps, seed {seed}",
                    code, data, max_steps, check, {"programs": programs, "n": n, "k": k, "seed": seed})


# -- (c) one program over many memories: multiplication by repeated addition -----------------------

MZ, MONE, MX, MACC, MT, MI = range(6)  # cells 6 and 7 are unused (k = 8)
MULTIPLY_ROWS = [
    (0, 0, 0),  # 0: HALT
    (MX, MT, 2),  # 1: T = -x
    (MT, MACC, 3),  # 2: ACC += x
    (MT, MT, 4),  # 3: T = 0
    (MONE, MI, 6),  # 4: I -= 1; I <= 0: to 6
    (MZ, MZ, 1),  # 5: to 1
    (MZ, MZ, 0),  # 6: halt
]


def multiply(inputs: int = 100_000, b: int = 200, seed: int = 2, k: int = 8) -> Workload:
    """(c): ACC = b x by b additions of x, x different per run; 5 b steps per run. One
    shared code block (1, 7, 3); the runtimes lay the data out by cell on the GPU."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-1_000_000, 1_000_001, size=inputs, dtype=np.int64)
    data = np.zeros((inputs, k), dtype=np.int64)
    data[:, MONE] = 1
    data[:, MX] = x
    data[:, MI] = b
    code = np.array([MULTIPLY_ROWS], dtype=np.int64)

    def check(final: np.ndarray, steps: np.ndarray, status: np.ndarray) -> None:
        assert (status == 0).all(), "(c) a run did not halt"
        assert (steps == 5 * b).all(), f"(c) steps {int(steps.min())}..{int(steps.max())}, not {5 * b}"
        bad = np.flatnonzero(final[:, MACC] != b * x)
        assert bad.size == 0, f"(c) run {bad[:1]}: ACC = {final[bad[:1], MACC]}, not {b * x[bad[:1]]}"

    return Workload("c", f"(c) one program, many memories: {inputs:,} inputs, b = {b}, k = {k}", code, data, 1_000_000, check,
                    {"inputs": inputs, "b": b, "k": k, "seed": seed})
