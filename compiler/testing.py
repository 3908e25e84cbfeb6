"""Running a program's in-source ``.test`` blocks (what ``synth test`` does, callable from Python).

A test sets its ``.set`` cells on top of the initial data, runs the program to halt within
``.maxsteps``, and checks every ``.expect`` cell. A test whose values do not fit the
program's word width is skipped, with the reason. Runs start on the reference interpreter
(no start-up cost) and continue on the Numba CPU runtime from where it stopped when a test
runs long; both implement the same run loop exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isa.base import Status, word_range, wrap
from isa.convention import initial_data
from isa.program import Program, TestCase

REFERENCE_STEPS = 200_000  # longer runs continue on the compiled runtime


@dataclass
class TestOutcome:
    test: str
    status: str  # "pass", "fail" or "skip"
    detail: str = ""
    steps: int = 0


def _misfit(test: TestCase, bits: int) -> str | None:
    lo, hi = word_range(bits)
    for kind, entries in (("set", test.set), ("expect", test.expect)):
        for label, values in entries.items():
            for v in values:
                if not lo <= v < hi:
                    return f"{v} in .{kind} {label} does not fit a {bits}-bit word"
    return None


def execute(program: Program, data: np.ndarray, max_steps: int, backend: str = "auto") -> tuple[Status, int, np.ndarray]:
    """Run to halt or ``max_steps``: (status, steps, final data memory)."""
    from runtime.run import machine

    code, mem = machine(program, data)
    isa = program.spec
    if backend in ("auto", "reference"):
        from runtime.reference import run_reference

        budget = max_steps if backend == "reference" else min(max_steps, REFERENCE_STEPS)
        r = run_reference(isa, code, mem, max_steps=budget, word_bits=program.word_bits)
        status, steps, mem, pc = r.status, r.steps, r.data, r.pc
        if status == Status.STEP_LIMIT and steps < max_steps:
            from runtime.cpu import run_cpu

            r = run_cpu(isa, code, mem, pc=pc, max_steps=max_steps - steps, word_bits=program.word_bits)
            status, steps, mem = r.status, steps + r.steps, r.data
    else:
        from runtime.cpu import run_cpu

        r = run_cpu(isa, code, mem, max_steps=max_steps, word_bits=program.word_bits)
        status, steps, mem = r.status, r.steps, r.data
    memory = program.data_area(mem)
    return status, steps, memory


def run_test(program: Program, test: TestCase, backend: str = "auto") -> TestOutcome:
    w = program.word_bits
    misfit = _misfit(test, w)
    if misfit:
        return TestOutcome(test.name, "skip", misfit)
    data = initial_data(program, test.set)
    status, steps, memory = execute(program, data, test.max_steps, backend)
    if status != Status.HALTED:
        how = f"step limit of {test.max_steps:,} reached" if status == Status.STEP_LIMIT else status.label
        return TestOutcome(test.name, "fail", f"did not halt: {how} after {steps:,} steps", steps)
    wrong = []
    for label, values in test.expect.items():
        s = program.symbol(label)
        got = [int(v) for v in memory[s.address : s.address + len(values)]]
        want = [wrap(v, w) for v in values]
        if got != want:
            wrong.append(f"{label} = {', '.join(map(str, got))} (expected {', '.join(map(str, want))})")
    if wrong:
        return TestOutcome(test.name, "fail", "; ".join(wrong), steps)
    return TestOutcome(test.name, "pass", "", steps)


def run_tests(program: Program, backend: str = "auto") -> list[TestOutcome]:
    """Every ``.test`` of the program, in order."""
    return [run_test(program, t, backend) for t in program.tests]
