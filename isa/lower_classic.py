"""How ``classic`` expresses the portable instructions: the paper's rules, laid out in one memory.

Classic subleq is subleq with code and data in one memory: rows are three words from
address 0, data follows the code (at ``data_base``), a code field holds an address
(3 x row), and the machine halts by jumping to a negative address (``HALT`` is -1, which
as an unsigned address is the I/O port, so it is never used as an operand). Every rule
of isa/lower_subleq.py carries over unchanged; ``load`` and ``store`` patch the address
fields of their own rows (self-modifying code), as classic programs do:

| instruction | rows | how                                                          |
|-------------|------|--------------------------------------------------------------|
| load p, d   | 9    | Q = -(D[p] + base); the A field of row 5 = -Q; (A, Z) (d, d) (Z, d) (Z, Z) |
| store s, p  | 13   | Q as above; patch A and B of row 10 and B of row 11; (s, Z) (X, X) (Z, X) (Z, Z) |

The value is read (or the source copied into Z) before the destination is cleared, so
``load p, d`` and ``store s, p`` are right even when the pointer points at ``d`` or ``s``.
A pointer outside the data area reaches other memory (there is no bad_address check on
this machine for addresses below the memory size).
"""

from __future__ import annotations

from isa.lower_subleq import RULES as SUBLEQ_RULES
from isa.lowering import DATA_BASE, NEXT, ZERO, CodeWord, DataOperand, Emitter, Lowering, Scratch

Z = ZERO
Q = Scratch(0)
PATCHED = 0  # a field that the rows before it fill in at run time


def _address_into_q(e: Emitter, ptr: DataOperand) -> None:
    e.row(Q, Q, NEXT)
    e.row(ptr, Q, NEXT)  # Q = -D[p]
    e.row(DATA_BASE, Q, NEXT)  # Q = -(D[p] + base): minus the pointer's memory address


def _patch(e: Emitter, word: CodeWord) -> None:
    e.row(word, word, NEXT)
    e.row(Q, word, NEXT)  # the word = D[p] + base


def load(e: Emitter, ptr: DataOperand, dst: DataOperand) -> None:
    _address_into_q(e, ptr)  # rows 0-2
    _patch(e, CodeWord(5, 0))  # rows 3-4
    e.row(PATCHED, Z, NEXT)  # row 5: Z = -m[addr]
    e.row(dst, dst, NEXT)
    e.row(Z, dst, NEXT)
    e.row(Z, Z, NEXT)


def store(e: Emitter, src: DataOperand, ptr: DataOperand) -> None:
    _address_into_q(e, ptr)  # rows 0-2
    _patch(e, CodeWord(10, 0))  # rows 3-4
    _patch(e, CodeWord(10, 1))  # rows 5-6
    _patch(e, CodeWord(11, 1))  # rows 7-8
    e.row(src, Z, NEXT)  # row 9: Z = -src
    e.row(PATCHED, PATCHED, NEXT)  # row 10: m[addr] = 0
    e.row(Z, PATCHED, NEXT)  # row 11: m[addr] = src
    e.row(Z, Z, NEXT)


LOWERING = Lowering(
    rules={**SUBLEQ_RULES, "load": load, "store": store},
    halt_target=-1,
    reserved_row=None,
    code_scale=3,
    shared_memory=True,
    notes=__doc__ or "",
)
