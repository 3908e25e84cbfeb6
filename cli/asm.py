"""``synth asm``: compile a ``.sasm`` file to a program JSON (and print a listing)."""

from __future__ import annotations

import argparse
import json
import sys

from cli.common import add_word_bits
from isa.program_json import save_program
from isa.registry import REGISTRY


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "asm",
        help="compile a .sasm file to a program JSON",
        description="Compile an assembly file for an ISA. Writes the program JSON to OUT.json (atomically), or to "
        "standard output without -o. --listing prints each instruction with its number, fields, label and source "
        "line instead (and writes the JSON too when -o is given). Errors: file:line:col: error: ..., exit 2.",
    )
    p.add_argument("file", metavar="FILE.sasm")
    p.add_argument("--isa", choices=sorted(REGISTRY), help="the ISA (default: the file's .isa, else subleq)")
    add_word_bits(p)
    p.add_argument("-o", "--output", metavar="OUT.json", help="where to write the program (default: standard output)")
    p.add_argument("--listing", action="store_true", help="print the listing")
    p.set_defaults(func=asm_command)


def asm_command(args: argparse.Namespace) -> int:
    from compiler import CompileError, compile_file
    from compiler.listing import listing

    try:
        if args.file.lower().endswith(".json"):  # a program file: list it (or convert it) as it is
            from cli.loading import load_runnable

            program = load_runnable(args.file, args.isa, args.word_bits)
        else:
            program = compile_file(args.file, isa=args.isa, word_bits=args.word_bits)
    except CompileError as e:
        sys.stdout.flush()
        sys.stderr.write(f"{e}\n")
        return 2
    if args.output:
        save_program(program, args.output)
    if args.listing:
        sys.stdout.write(listing(program))
    elif not args.output:
        sys.stdout.write(json.dumps(program.to_json(), indent=1) + "\n")
    sys.stdout.flush()
    return 0
