"""The program file format (``synth-program``, version 1, spec/isa.md "Program files"):
reading with a clear error for every malformed key, writing, and memory images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from isa.base import SynthError, check_word_bits, to_word, words_to_array
from isa.files import parse_json, read_text, write_atomic
from isa.program import FORMAT, VERSION, Program, SourceLoc, Symbol, TestCase
from isa.registry import get_isa


def program_to_json(self: Program) -> dict[str, Any]:
    """A program as its file (spec/isa.md, "Program files")."""
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


def program_from_json(obj: Any, where: str = "program") -> Program:
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


