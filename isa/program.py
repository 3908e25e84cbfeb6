"""A program for one ISA, and its JSON file format (``synth-program``, version 1).

The file holds everything needed to run, test and learn a program::

    {"format": "synth-program", "version": 1, "name": "popcount", "isa": "subleq",
     "word_bits": 64,
     "code": [[0, 0, 0], [3, 3, 2], ...],          # rows, row 0 included
     "data": [0, 1, 0, ...],                        # initial data memory, one int per cell
     "symbols": {"bits": {"address": 1, "size": 8}, ...},   # data labels
     "labels": {"loop": 4, ...},                    # code labels -> instruction number
     "inputs": ["bits"], "outputs": ["count"],
     "descriptions": ["count the ones", ...],
     "tests": [{"name": "mixed", "set": {"bits": [1, 0]}, "expect": {"count": [1]},
                "max_steps": 1000000}],
     "source_map": [null, {"file": "popcount.sasm", "line": 12, "text": "add bits, count"}, ...]}

For ``classic`` two more keys say where things sit in the one memory: the code rows are
laid out from address 0, three words each, and ``data`` starts at ``data_base``; the
memory has ``memory_size`` words (default min(2^w, 65536)). Data addresses in
``symbols`` count from ``data_base``. Only ``format``, ``isa``, ``code`` and ``data`` are
required when reading; everything else has a default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import ISA, Domain, SynthError, check_word_bits, to_word, words_to_array
from isa.files import parse_json, read_text, write_atomic
from isa.registry import get_isa

FORMAT = "synth-program"
VERSION = 1


@dataclass
class Symbol:
    address: int
    size: int


@dataclass
class SourceLoc:
    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class TestCase:
    name: str
    set: dict[str, list[int]] = field(default_factory=dict)
    expect: dict[str, list[int]] = field(default_factory=dict)
    max_steps: int = 1_000_000
    loc: SourceLoc | None = None


@dataclass
class Program:
    isa: str
    code: np.ndarray  # (n, fields) int64
    data: np.ndarray  # (k,) int64, wrapped to signed words
    word_bits: int
    name: str = ""
    symbols: dict[str, Symbol] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    source_map: list[SourceLoc | None] = field(default_factory=list)
    data_base: int = 0  # classic: where data starts in the one memory
    memory_size: int = 0  # classic: words of memory (0: the default for the width)

    # -- derived ---------------------------------------------------------------------

    @property
    def spec(self) -> ISA:
        return get_isa(self.isa)

    @property
    def n(self) -> int:
        return int(self.code.shape[0])

    @property
    def k(self) -> int:
        return int(self.data.shape[0])

    def symbol(self, name: str) -> Symbol:
        if name not in self.symbols:
            known = ", ".join(sorted(self.symbols)) or "none"
            raise SynthError(f"unknown data label {name!r} (known: {known})")
        return self.symbols[name]

    def cells(self, names: list[str]) -> list[int]:
        """The data addresses of these labels' cells, label by label, in order."""
        out: list[int] = []
        for name in names:
            s = self.symbol(name)
            out.extend(range(s.address, s.address + s.size))
        return out

    def input_cells(self) -> list[int]:
        return self.cells(self.inputs)

    def row_at(self, pc: int) -> int | None:
        """The instruction row that ``pc`` points at (pc counts rows, or for code in memory
        words, ``pc_per_row`` of them a row), or None when it points at none."""
        per = self.spec.pc_per_row
        if pc < 0 or pc % per:
            return None
        row = pc // per
        return row if row < self.n else None

    # -- validation --------------------------------------------------------------------

    def validate(self, where: str = "program") -> Program:
        """Check every field against its domain, so compiled runtimes need no checks
        on static addresses. Raises SynthError naming the row and field."""
        isa = get_isa(self.isa)
        check_word_bits(self.word_bits)
        code = self.code
        if code.ndim != 2 or code.shape[1] != isa.width:
            raise SynthError(f"{where}: code must be rows of {isa.width} fields {isa.field_names}, got shape {code.shape}")
        n, k = self.n, self.k
        if isa.static_code:
            if n < 1:
                raise SynthError(f"{where}: code needs at least row 0 (the halt row)")
            if k < 1:
                raise SynthError(f"{where}: data memory needs at least one cell")
            message = isa.check_halt_row(code[0]) if isa.check_halt_row else None
            if message:
                raise SynthError(f"{where}: {message}, got {code[0].tolist()}")
            for j, f in enumerate(isa.fields):
                size = isa.domain_size(f.domain, n=n, k=k)
                column = code[:, j]
                bad = np.flatnonzero((column < 0) | (column >= size))
                if bad.size:
                    row = int(bad[0])
                    raise SynthError(
                        f"{where}: row {row} field {f.name!r} is {int(column[row])}, outside [0, {size})"
                        f" ({_domain_words(f.domain, n, k)})"
                    )
        else:
            self._shared().validate(self, where)
        for name, s in self.symbols.items():
            if s.size < 0 or s.address < 0 or s.address + s.size > k:
                raise SynthError(f"{where}: symbol {name!r} ({s.address}, size {s.size}) lies outside data memory (k = {k})")
        for name in (*self.inputs, *self.outputs):
            if name not in self.symbols:
                raise SynthError(f"{where}: input/output {name!r} is not a data symbol")
        for name, value in self.labels.items():
            if not isinstance(value, int) or value < 0:
                raise SynthError(f"{where}: code label {name!r} has a bad value {value!r}")
        return self

    # -- the machine a runtime acts on (code in memory: the ISA's shared_memory layout) --------

    def memory_image(self) -> np.ndarray:
        """The one memory of an ISA whose code lives in memory (classic): code, then data from data_base."""
        return self._shared().image(self)

    def data_area(self, memory: np.ndarray) -> np.ndarray:
        """The program's data cells of a final memory: all of it for static code; the data
        area inside the one memory otherwise."""
        layout = self.spec.shared_memory
        return memory if layout is None else layout.data_area(self, memory)

    def compiled_port_check(self) -> None:
        """What the compiler must keep clear in the one memory (classic: code below 2^(w-1), off the port)."""
        self._shared().check_compiled(self)

    def _shared(self) -> Any:
        layout = self.spec.shared_memory
        if layout is None:
            raise SynthError(f"{self.isa}: code and data are separate (no one memory to lay out)")
        return layout

    # -- JSON --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "isa": self.isa,
            "word_bits": self.word_bits,
            "fields": list(get_isa(self.isa).field_names),
            "code": self.code.tolist(),
            "data": self.data.tolist(),
            "symbols": {k: {"address": v.address, "size": v.size} for k, v in self.symbols.items()},
            "labels": dict(self.labels),
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "descriptions": list(self.descriptions),
            "tests": [
                {"name": t.name, "set": t.set, "expect": t.expect, "max_steps": t.max_steps}
                | ({"file": t.loc.file, "line": t.loc.line} if t.loc else {})
                for t in self.tests
            ],
            "source_map": [None if s is None else {"file": s.file, "line": s.line, "text": s.text} for s in self.source_map],
        }
        layout = get_isa(self.isa).shared_memory
        if layout is not None:
            out["data_base"] = self.data_base
            out["memory_size"] = self.memory_size or layout.default_size(self.word_bits)
        return out

    @classmethod
    def from_json(cls, obj: Any, where: str = "program") -> Program:
        return _program_from_json(obj, where)


def _domain_words(domain: Domain, n: int, k: int) -> str:
    return {
        Domain.DATA: f"a data address; k = {k} cells",
        Domain.CODE: f"an instruction number; n = {n} rows",
        Domain.OPCODE: "an opcode",
        Domain.MEMORY: "a memory word",
    }[domain]


def _req(obj: dict, key: str, where: str) -> Any:
    if key not in obj:
        raise SynthError(f"{where}: missing key {key!r}")
    return obj[key]


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SynthError(f"{what} must be an integer, not {value!r}")
    return value


def _int_list(value: Any, what: str) -> list[int]:
    if not isinstance(value, list):
        raise SynthError(f"{what} must be a list of integers")
    return [_int(v, f"{what}[{i}]") for i, v in enumerate(value)]


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SynthError(f"{what} must be a list of strings")
    return list(value)


def _program_from_json(obj: Any, where: str) -> Program:
    if not isinstance(obj, dict):
        raise SynthError(f"{where}: a program file must hold a JSON object")
    if obj.get("format") != FORMAT:
        raise SynthError(f"{where}: not a synth program (\"format\" must be {FORMAT!r})")
    version = obj.get("version", VERSION)
    if version != VERSION:
        raise SynthError(f"{where}: program format version {version!r} is not supported (this is version {VERSION})")
    isa_name = _req(obj, "isa", where)
    if not isinstance(isa_name, str):
        raise SynthError(f"{where}: \"isa\" must be a string")
    isa = get_isa(isa_name)
    w = check_word_bits(_int(obj.get("word_bits", isa.default_word_bits), f"{where}: word_bits"))
    rows = _req(obj, "code", where)
    if not isinstance(rows, list):
        raise SynthError(f"{where}: \"code\" must be a list of rows")
    code = np.zeros((len(rows), isa.width), dtype=np.int64)
    for i, row in enumerate(rows):
        vals = _int_list(row, f"{where}: code row {i}")
        if len(vals) != isa.width:
            raise SynthError(f"{where}: code row {i} has {len(vals)} fields; {isa.name} rows have {isa.width} {isa.field_names}")
        for j, v in enumerate(vals):
            if not -(1 << 63) <= v < (1 << 64):
                raise SynthError(f"{where}: code row {i} field {j} = {v} is out of range")
            code[i, j] = v if v < (1 << 63) else v - (1 << 64)
    data = words_to_array(_int_list(_req(obj, "data", where), f"{where}: data"), w, f"{where}: data")
    symbols = {}
    raw_symbols = obj.get("symbols", {})
    if not isinstance(raw_symbols, dict):
        raise SynthError(f"{where}: \"symbols\" must be an object")
    for name, s in raw_symbols.items():
        if not isinstance(s, dict):
            raise SynthError(f"{where}: symbol {name!r} must be {{\"address\": A, \"size\": S}}")
        symbols[name] = Symbol(_int(s.get("address"), f"{where}: symbol {name!r} address"), _int(s.get("size", 1), f"{where}: symbol {name!r} size"))
    labels_raw = obj.get("labels", {})
    if not isinstance(labels_raw, dict):
        raise SynthError(f"{where}: \"labels\" must be an object")
    labels = {k: _int(v, f"{where}: label {k!r}") for k, v in labels_raw.items()}
    tests = []
    for i, t in enumerate(obj.get("tests", []) or []):
        if not isinstance(t, dict):
            raise SynthError(f"{where}: test {i} must be an object")
        loc = SourceLoc(str(t["file"]), _int(t.get("line", 0), "test line")) if "file" in t else None
        tests.append(
            TestCase(
                name=str(t.get("name", f"test{i}")),
                set={k: _int_list(v, f"{where}: test {i} set {k}") for k, v in dict(t.get("set", {})).items()},
                expect={k: _int_list(v, f"{where}: test {i} expect {k}") for k, v in dict(t.get("expect", {})).items()},
                max_steps=_int(t.get("max_steps", 1_000_000), f"{where}: test {i} max_steps"),
                loc=loc,
            )
        )
    source_map: list[SourceLoc | None] = []
    for s in obj.get("source_map", []) or []:
        if s is None:
            source_map.append(None)
        elif isinstance(s, dict) and "file" in s:
            source_map.append(SourceLoc(str(s["file"]), _int(s.get("line", 0), "source line"), str(s.get("text", ""))))
        else:
            raise SynthError(f"{where}: bad source_map entry {s!r}")
    program = Program(
        isa=isa.name,
        code=code,
        data=data,
        word_bits=w,
        name=str(obj.get("name", "")),
        symbols=symbols,
        labels=labels,
        inputs=_str_list(obj.get("inputs", []), f"{where}: inputs"),
        outputs=_str_list(obj.get("outputs", []), f"{where}: outputs"),
        descriptions=_str_list(obj.get("descriptions", []), f"{where}: descriptions"),
        tests=tests,
        source_map=source_map,
        data_base=_int(obj.get("data_base", 3 * len(rows)), f"{where}: data_base"),
        memory_size=_int(obj.get("memory_size", 0), f"{where}: memory_size"),
    )
    return program.validate(where)


# -- files ---------------------------------------------------------------------------------


def load_program(path: str | Path) -> Program:
    obj = parse_json(read_text(path, "program file"), path)
    program = Program.from_json(obj, str(path))
    if not program.name:
        program.name = Path(path).stem
    return program


def load_image(path: str | Path, word_bits: int = 16, memory_size: int = 0, isa: str = "classic") -> Program:
    """A memory image (classic): whitespace- or comma-separated integers from address 0."""
    check_word_bits(word_bits)
    text = read_text(path, "image")
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        for token in line.replace(",", " ").split():
            try:
                v = int(token, 0) if token.lower().startswith(("0x", "-0x", "0b", "-0b")) else int(token)
            except ValueError:
                raise SynthError(f"{path}:{lineno}: not an integer: {token[:40]!r}") from None
            values.append(to_word(v, word_bits, f"{path}:{lineno}: word {len(values)}"))
    size = memory_size or get_isa(isa)._shared_default(word_bits)
    if not values:
        raise SynthError(f"{path}: the image is empty")
    if len(values) > size:
        raise SynthError(f"{path}: the image has {len(values)} words, more than the memory size {size}")
    program = Program(
        isa=isa,
        code=np.zeros((0, get_isa(isa).width), dtype=np.int64),
        data=np.array(values, dtype=np.int64),
        word_bits=word_bits,
        name=Path(path).stem,
        data_base=0,
        memory_size=size,
    )
    return program.validate(str(path))


def save_program(program: Program, path: str | Path) -> None:
    write_atomic(path, json.dumps(program.to_json(), indent=1) + "\n")


# -- inputs and outputs (the calling convention) ---------------------------------------------


def initial_data(
    program: Program, sets: dict[str, list[int]] | None = None, inputs: list[int] | None = None
) -> np.ndarray:
    """The program's initial data memory with ``--inputs`` (the input cells in
    calling-convention order) and then ``--set`` (a label's cells from its first) applied."""
    data = program.data.copy()
    w = program.word_bits
    if inputs is not None:
        cells = program.input_cells()
        if len(inputs) != len(cells):
            raise SynthError(f"{len(inputs)} input value{'s' if len(inputs) != 1 else ''} given but the program has "
                             f"{len(cells)} input cell{'s' if len(cells) != 1 else ''} ({', '.join(program.inputs) or 'none declared'}); "
                             "give one value per cell, or set a label's first cells with --set NAME=V1,...")
        for addr, v in zip(cells, inputs, strict=False):
            data[addr] = to_word(v, w, "input value")
    for name, values in (sets or {}).items():
        s = program.symbol(name)
        if len(values) > s.size:
            raise SynthError(f"{len(values)} values given for {name!r}, which has {s.size} cell{'s' if s.size != 1 else ''}")
        for i, v in enumerate(values):
            data[s.address + i] = to_word(v, w, f"value for {name}")
    return data


def read_outputs(program: Program, data: np.ndarray) -> dict[str, list[int]]:
    """Each ``.output`` label's cells after a run (``data`` is the data memory)."""
    out = {}
    for name in program.outputs:
        s = program.symbols[name]
        out[name] = [int(v) for v in data[s.address : s.address + s.size]]
    return out
