"""Turning a file named on the command line into a Program: JSON, assembly, or an image."""

from __future__ import annotations

from pathlib import Path

from isa.base import SynthError
from isa.program import Program
from isa.program_json import load_image, load_program
from isa.registry import get_isa, image_isas


def load_runnable(path: str, isa: str | None = None, word_bits: int | None = None, memory_size: int | None = None) -> Program:
    """A program file (``.json``), an assembly source (``.sasm``), or with ``--isa classic``
    a memory image (integers separated by whitespace or commas)."""
    if Path(path).is_dir():
        raise SynthError(f"{path}: is a directory, not a program (give a .sasm source, a program .json or an image)")
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        program = load_program(path)
        if isa is not None and isa != program.isa:
            raise SynthError(f"{path} is a program for {program.isa!r}, not {isa!r} (recompile the source for {isa})")
        if word_bits is not None and word_bits != program.word_bits:
            raise SynthError(f"{path} was built for {program.word_bits}-bit words, not {word_bits} (recompile the source)")
        return program
    if suffix == ".sasm":
        try:
            from compiler import compile_file
        except ImportError:
            raise SynthError(f"{path}: this installation has no assembler (the compiler package is missing)") from None
        return compile_file(path, isa=isa, word_bits=word_bits)
    if isa is not None and not get_isa(isa).static_code:  # code in memory: a bare image is a program
        return load_image(path, word_bits=word_bits or get_isa(isa).default_word_bits, memory_size=memory_size or 0, isa=isa)
    raise SynthError(
        f"{path}: cannot tell what this file is: give a program .json, an assembly .sasm, "
        "or --isa NAME for a memory image of an ISA whose code lives in memory (" + ", ".join(image_isas()) + ")"
    )
