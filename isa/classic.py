"""Classic subleq: one memory of ``size`` w-bit words holding code and data (von Neumann).

This is the subleq that programs in the wild are written for (Mazonka's; the eForth image
in shared/data/subleq-eforth). Rows are three consecutive words a, b, c read as unsigned
addresses; the all-ones word (-1) is the I/O port: ``a == port`` reads a byte of input into
m[b] (-1 at end of input), ``b == port`` writes m[a] & 0xFF to the output, otherwise
m[b] -= m[a] and the next pc is c if the result is <= 0, else pc + 3. The machine halts
when pc, read as a signed word, is negative; the result reports pc as that signed word. Code is data here, so the neural layer
refuses this ISA.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from isa.base import ISA, Domain, Field, Op, Status, SynthError, wrap
from isa.lower_classic import LOWERING
from isa.port import IO_DISCARD, IO_EOF, IO_IN_LEN, IO_IN_POS, IO_OUT_LEN  # the byte port's state slots

DEFAULT_MEMORY_SIZE = 65536


class ByteIO(Protocol):
    def read(self) -> int: ...  # next input byte, or -1 at end of input

    def write(self, byte: int) -> None: ...


def default_memory_size(word_bits: int) -> int:
    return min(1 << word_bits, DEFAULT_MEMORY_SIZE)


def port(word_bits: int) -> int:
    """The I/O port: the all-ones word, read as unsigned."""
    return (1 << word_bits) - 1


class OneMemory:
    """How a program sits in the one memory: code rows from address 0, three words each,
    data from ``data_base``; ``memory_size`` words in all (default min(2^w, 65,536)).
    Program (isa/program.py) asks this for validation, its memory image and its data area."""

    def default_size(self, word_bits: int) -> int:
        return default_memory_size(word_bits)

    def reserved_from(self, word_bits: int) -> int:
        """The lowest address a program may not occupy: the I/O port."""
        return port(word_bits)

    def validate(self, program: Any, where: str) -> None:
        w = program.word_bits
        size = program.memory_size or default_memory_size(w)
        if size < 3 or size > (1 << w):
            raise SynthError(f"{where}: memory_size {size} must lie in [3, 2^{w}]")
        lo = 3 * program.n
        if program.data_base < lo:
            raise SynthError(f"{where}: data_base {program.data_base} overlaps the code (3 x {program.n} rows = {lo} words)")
        if program.data_base + program.k > size:
            raise SynthError(f"{where}: data ends at {program.data_base + program.k}, past the memory size {size}")
        bad = (program.code < -(1 << (w - 1))) | (program.code >= (1 << w))
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            raise SynthError(f"{where}: row {row} field {col} = {int(program.code[row, col])} does not fit a {w}-bit word")
        program.memory_size = size

    def image(self, program: Any) -> np.ndarray:
        size = program.memory_size or default_memory_size(program.word_bits)
        mem = np.zeros(size, dtype=np.int64)
        flat = program.code.reshape(-1)
        shift = 64 - program.word_bits
        mem[: flat.size] = (flat << shift) >> shift
        mem[program.data_base : program.data_base + program.k] = program.data
        return mem

    def data_area(self, program: Any, memory: np.ndarray) -> np.ndarray:
        return memory[program.data_base : program.data_base + program.k]

    def check_compiled(self, program: Any) -> None:
        """Programs built by the compiler keep code below 2^(w-1) (pc reads as non-negative) and off the port."""
        w = program.word_bits
        if 3 * program.n > (1 << (w - 1)):
            raise SynthError(f"the code ({3 * program.n} words) does not fit below address 2^{w - 1}")
        if (program.memory_size or default_memory_size(w)) > port(w):
            raise SynthError(f"memory of {program.memory_size} words would cover the I/O port {port(w)}")


def reference_run(
    code: Any, data: list[int], pc: int, max_steps: int, word_bits: int, trace: list | None = None, io: Any = None
) -> tuple[int, int, Status]:
    """The executable specification of ``classic``. ``data`` is the whole memory; ``code``
    is unused (code lives in memory). ``io`` reads and writes bytes (None: no input,
    output discarded)."""
    m = data
    size = len(m)
    mask = (1 << word_bits) - 1
    io_port = mask
    steps = 0
    while True:
        if wrap(pc, word_bits) < 0:  # reported as that signed word
            return wrap(pc, word_bits), steps, Status.HALTED
        if pc + 2 >= size:
            return pc, steps, Status.FELL_OFF
        if steps == max_steps:
            return pc, steps, Status.STEP_LIMIT
        a, b, c = m[pc] & mask, m[pc + 1] & mask, m[pc + 2] & mask
        if a == io_port:
            if b >= size:
                return pc, steps, Status.BAD_ADDRESS
            m[b] = wrap(io.read() if io is not None else -1, word_bits)
            if trace is not None:
                trace.append((pc, b, m[b]))
            pc += 3
        elif b == io_port:
            if a >= size:
                return pc, steps, Status.BAD_ADDRESS
            if io is not None:
                io.write(m[a] & 0xFF)
            if trace is not None:
                trace.append((pc, -1, m[a] & 0xFF))
            pc += 3
        else:
            if a >= size or b >= size:
                return pc, steps, Status.BAD_ADDRESS
            m[b] = wrap(m[b] - m[a], word_bits)
            if trace is not None:
                trace.append((pc, b, m[b]))
            pc = c if m[b] <= 0 else pc + 3
        steps += 1




def fast_run(code, data, pc, max_steps, shift, trace, inp, out, io):  # noqa: ANN001, ANN201, C901
    """The same loop for numba (CPU and CUDA). Every address is data here, so every one
    is checked before use. ``code`` is unused: the program is in ``data``."""
    m = data
    size = m.shape[0]
    if shift == 0:
        mask = np.int64(-1)
    else:
        mask = (np.int64(1) << (64 - shift)) - 1
    steps = 0
    while True:
        if ((pc << shift) >> shift) < 0:
            return (pc << shift) >> shift, steps, 0
        if pc >= size - 2:  # not pc + 2 >= size: that overflows for pc near 2^63
            return pc, steps, 1
        if steps == max_steps:
            return pc, steps, 2
        if trace is not None:
            if steps == trace.shape[0]:
                return pc, steps, 6
        a = m[np.uint64(pc)] & mask
        b = m[np.uint64(pc + 1)] & mask
        c = m[np.uint64(pc + 2)] & mask
        if a == mask:
            if b < 0 or b >= size:
                return pc, steps, 3
            pos = io[IO_IN_POS]
            if pos < io[IO_IN_LEN]:
                v = inp[pos]
                io[IO_IN_POS] = pos + 1
            elif io[IO_EOF] != 0:
                v = np.int64(-1)
            else:
                return pc, steps, 4
            v = (v << shift) >> shift
            m[np.uint64(b)] = v
            if trace is not None:
                trace[steps, 0] = pc
                trace[steps, 1] = b
                trace[steps, 2] = v
            pc += 3
        elif b == mask:
            if a < 0 or a >= size:
                return pc, steps, 3
            v = m[np.uint64(a)] & 255
            olen = io[IO_OUT_LEN]
            if olen < out.shape[0]:
                out[olen] = v
                io[IO_OUT_LEN] = olen + 1
            elif io[IO_DISCARD] == 0:
                return pc, steps, 5
            if trace is not None:
                trace[steps, 0] = pc
                trace[steps, 1] = -1
                trace[steps, 2] = v
            pc += 3
        else:
            if a < 0 or a >= size or b < 0 or b >= size:
                return pc, steps, 3
            r = ((m[np.uint64(b)] - m[np.uint64(a)]) << shift) >> shift
            m[np.uint64(b)] = r
            if trace is not None:
                trace[steps, 0] = pc
                trace[steps, 1] = b
                trace[steps, 2] = r
            if r <= 0:
                pc = c
            else:
                pc += 3
        steps += 1


CLASSIC = ISA(
    name="classic",
    summary="classic subleq: one memory of w-bit words for code and data, byte I/O at address -1",
    fields=(
        Field("a", Domain.MEMORY, "subtrahend address, or the port (-1): read a byte into m[b]"),
        Field("b", Domain.MEMORY, "minuend and destination address, or the port: write m[a]"),
        Field("c", Domain.MEMORY, "branch target when the result is <= 0; negative halts"),
    ),
    ops=(Op(0, "subleq", ("a", "b", "c"), "m[b] -= m[a]; if m[b] <= 0 goto c else pc += 3; -1 is I/O"),),
    static_code=False,
    default_word_bits=16,
    start_pc=0,
    reference_run=reference_run,
    fast_run=fast_run,
    check_halt_row=None,
    doc=__doc__ or "",
    lowering=LOWERING,
    pc_per_row=3,
    shared_memory=OneMemory(),
)
