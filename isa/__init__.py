"""ISAs as data: fields and their domains, op tables, and one run loop each.

Nothing here imports the other packages: the compiler, the runtimes and the neural
heads all derive from these definitions.
"""

from isa.base import ISA, WORD_BITS, Domain, Field, Op, Status, SynthError, wrap
from isa.convention import initial_data, read_outputs
from isa.program import Program, SourceLoc, Symbol, TestCase
from isa.program_json import load_image, load_program, save_program
from isa.registry import REGISTRY, all_isas, get_isa

__all__ = [
    "ISA", "WORD_BITS", "Domain", "Field", "Op", "Status", "SynthError", "wrap",
    "Program", "SourceLoc", "Symbol", "TestCase", "initial_data", "load_image", "load_program", "read_outputs",
    "save_program",
    "REGISTRY", "all_isas", "get_isa",
]
