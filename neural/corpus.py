"""A corpus: the programs a Synthesizer learns, all for one ISA with static code.

A corpus comes from compiled programs (``.sasm`` through the compiler, or program
``.json`` files; a program is named by its file's stem) or from random programs as in
the paper's Table 1 (named ``rand0``, ``rand1``, ...). Every program keeps what a run
needs besides its code (initial data, symbols, inputs, outputs), and its training
descriptions. A program without ``.desc`` descriptions is described by its own special
token ``[prog:NAME]``; a random program always is (spec/neural.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import ISA, SynthError
from isa.files import read_json
from isa.program import Program
from isa.program_json import load_program
from isa.registry import get_isa

FORMAT = "synth-corpus"
VERSION = 1
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+$")
RANDOM_DATA_RANGE = (-1000, 1000)  # as benchmark (b) of spec/isa.md


def program_token(name: str) -> str:
    """The special token that names a program (and is its description if it has none)."""
    return f"[prog:{name}]"


def check_static(isa: ISA) -> None:
    """The neural layer serves ISAs whose code is static: the network *is* the code."""
    if not isa.static_code:
        raise SynthError(
            f"the neural layer cannot learn {isa.name!r} programs: its code lives in data memory and changes "
            "as the program runs, so there is no fixed instruction table to memorise (use subleq or ext)"
        )


@dataclass
class Corpus:
    """Programs of one ISA, in a fixed order (a program's index is its row in the corpus)."""

    isa: str
    programs: list[Program]
    source: str = "files"  # "files" or "random"

    def __post_init__(self) -> None:
        isa = get_isa(self.isa)
        check_static(isa)
        if not self.programs:
            raise SynthError("the corpus is empty: give at least one program")
        seen: dict[str, int] = {}
        owner: dict[str, str] = {}
        for i, p in enumerate(self.programs):
            if p.isa != self.isa:
                raise SynthError(f"program {p.name!r} is for {p.isa!r}, but the corpus is for {self.isa!r}")
            if not NAME_PATTERN.match(p.name or ""):
                raise SynthError(f"program name {p.name!r} must be letters, digits, '_', '.' or '-'")
            if p.name in seen:
                raise SynthError(f"two programs are named {p.name!r}: program names must be unique in a corpus")
            seen[p.name] = i
            for d in self.descriptions(p):
                if not d.strip():
                    raise SynthError(f"program {p.name!r} has an empty description")
                if d in owner and owner[d] != p.name:
                    raise SynthError(f"the description {d!r} is given for both {owner[d]!r} and {p.name!r}")
                owner[d] = p.name

    @property
    def spec(self) -> ISA:
        return get_isa(self.isa)

    @property
    def max_n(self) -> int:
        """The largest number of instruction rows: the size of code-address heads."""
        return max(p.n for p in self.programs)

    @property
    def max_k(self) -> int:
        """The largest data memory: the size of data-address heads."""
        return max(p.k for p in self.programs)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.programs]

    def field_sizes(self) -> dict[str, int]:
        """Each head's number of classes (spec/neural.md: the ISA's domains at the maxima)."""
        return self.spec.field_sizes(n=self.max_n, k=self.max_k)

    def program(self, name: str) -> Program:
        for p in self.programs:
            if p.name == name:
                return p
        raise SynthError(f"the model knows no program {name!r} (it knows: {_short_list(self.names)})")

    @staticmethod
    def descriptions(program: Program) -> list[str]:
        return list(program.descriptions) or [program_token(program.name)]

    def find_description(self, text: str) -> Program | None:
        """The program that ``text`` is a training description of, if any."""
        for p in self.programs:
            if text in self.descriptions(p):
                return p
        return None

    # -- JSON (the checkpoint's corpus.json and ``synth dataset``'s corpus.json) ----------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "isa": self.isa,
            "source": self.source,
            "max_n": self.max_n,
            "max_k": self.max_k,
            "programs": [p.to_json() for p in self.programs],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "corpus") -> Corpus:
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise SynthError(f"{where}: not a synth corpus (\"format\" must be {FORMAT!r})")
        if obj.get("version") != VERSION:
            raise SynthError(f"{where}: corpus version {obj.get('version')!r} is not supported (this is version {VERSION})")
        raw = obj.get("programs")
        if not isinstance(raw, list):
            raise SynthError(f"{where}: \"programs\" must be a list")
        programs = [Program.from_json(p, f"{where}: program {i}") for i, p in enumerate(raw)]
        isa = obj.get("isa")
        if not isinstance(isa, str):
            raise SynthError(f"{where}: \"isa\" must be a string")
        return cls(isa=isa, programs=programs, source=str(obj.get("source", "files")))


def _short_list(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


# -- building a corpus ---------------------------------------------------------------------


def load_corpus(paths: list[str], isa: str, word_bits: int | None = None) -> Corpus:
    """Programs from ``.sasm`` sources (compiled for ``isa``), program ``.json`` files, or
    a ``corpus.json`` written by ``synth dataset``, in the order given."""
    check_static(get_isa(isa))
    if not paths:
        raise SynthError("no program files given (or use --random N --length L)")
    programs: list[Program] = []
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix == ".sasm":
            programs.append(_compile(path, isa, word_bits))
        elif suffix == ".json":
            obj = read_json(path, "program file")
            if isinstance(obj, dict) and obj.get("format") == FORMAT:
                programs.extend(Corpus.from_json(obj, path).programs)
                continue
            program = load_program(path)
            if program.isa != isa:
                raise SynthError(f"{path} is a program for {program.isa!r}, not {isa!r} (recompile the source for {isa})")
            programs.append(program)
        else:
            raise SynthError(f"{path}: give assembly sources (.sasm) or program files (.json)")
    return Corpus(isa=isa, programs=programs, source="files")


def _compile(path: str, isa: str, word_bits: int | None) -> Program:
    try:
        from compiler import compile_file
    except ImportError:
        raise SynthError(f"{path}: this installation has no assembler (the compiler package is missing)") from None
    program = compile_file(path, isa=isa, word_bits=word_bits)
    program.name = Path(path).stem
    return program


def random_corpus(count: int, length: int, seed: int, isa: str = "subleq", k: int | None = None) -> Corpus:
    """``count`` random programs of ``length`` rows (the paper's Table 1).

    Row 0 is the ISA's halt row (all zeros), so each is a valid program that can also be
    run; rows 1.. draw every field uniformly from its domain (data addresses in [0, k),
    instruction numbers in [0, length), opcodes over the op table; on an ISA with an
    opcode field, the fields an op does not read are 0). All ``length`` rows, row 0
    included, are learned. Data memory: k cells (default: ``length``) uniform in
    [-1000, 1000]. Deterministic in ``seed``.
    """
    spec = get_isa(isa)
    check_static(spec)
    if count < 1:
        raise SynthError("--random needs at least 1 program")
    if length < 1:
        raise SynthError("--length must be at least 1")
    check_fits_memory(count, length)
    k = length if k is None else k
    rng = np.random.default_rng(seed)
    programs = []
    for i in range(count):
        code = np.zeros((length, spec.width), dtype=np.int64)
        for j, f in enumerate(spec.fields):
            size = spec.domain_size(f.domain, n=length, k=k)
            code[1:, j] = rng.integers(0, size, length - 1)
        _zero_unread_fields(spec, code)
        data = rng.integers(RANDOM_DATA_RANGE[0], RANDOM_DATA_RANGE[1] + 1, k).astype(np.int64)
        program = Program(isa=spec.name, code=code, data=data, word_bits=spec.default_word_bits, name=f"rand{i}")
        programs.append(program.validate(f"random program {i}"))
    return Corpus(isa=spec.name, programs=programs, source="random")


BYTES_PER_ROW = 200  # what one training row costs in memory (code, data, and the encoded row's tensors)


def check_fits_memory(count: int, length: int) -> None:
    """Refuse at once a corpus whose rows could not fit this machine's memory (rather than
    building it until memory runs out)."""
    import os

    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 1 << 40
    need = count * length * BYTES_PER_ROW
    if need > physical:
        raise SynthError(f"{count:,} programs of {length:,} rows are {count * length:,} training rows, about "
                         f"{need / 2**30:,.0f} GiB; this machine has {physical / 2**30:,.0f} GiB")


def _zero_unread_fields(spec: ISA, code: np.ndarray) -> None:
    for row in code[1:]:
        read = spec.columns_read(row)
        for j in range(spec.width):
            if j not in read:
                row[j] = 0
