"""``synth test``: run the in-source ``.test`` blocks of ``.sasm`` files on one ISA or all."""

from __future__ import annotations

import argparse
import sys

from isa.registry import REGISTRY


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "test",
        help="run the .test blocks of .sasm files",
        description="Compile each file and run its .test blocks: set the .set cells, run to halt within .maxsteps "
        "(default 1,000,000), check the .expect cells. Prints one line per test (PASS, FAIL or SKIP with the reason) "
        "and a summary; exit 0 only if nothing failed. --all-isas runs on every registered ISA, skipping (with a "
        "message) those the program cannot be compiled for or whose word width its values do not fit.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help=".sasm sources (or program .json files, which carry their tests)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--isa", choices=sorted(REGISTRY), help="the ISA (default: each file's .isa, else subleq)")
    which.add_argument("--all-isas", action="store_true", help="run on every registered ISA")
    from cli.common import add_word_bits

    add_word_bits(p)
    p.add_argument("--device", choices=("auto", "reference", "cpu"), default="auto",
                   help="auto (default): the reference interpreter, then Numba for long runs; or one of them only")
    p.set_defaults(func=test_command)


def test_command(args: argparse.Namespace) -> int:
    from compiler import CompileError, compile_file
    from compiler.testing import run_tests
    from isa.program import Program
    from isa.program_json import load_program

    counts = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
    out = sys.stdout

    def say(tag: str, where: str, text: str = "") -> None:
        out.write(f"{tag:<5} {where}{': ' + text if text else ''}\n")

    def programs(path: str):  # noqa: ANN202 - yields (label, Program | None)
        if path.lower().endswith(".json"):  # a compiled program: its own ISA only
            program = load_program(path)
            if args.isa not in (None, program.isa):
                say("SKIP", f"{path} [{args.isa}]", f"a program compiled for {program.isa}")
                counts["skip"] += 1
                return
            yield program
            return
        for isa in list(REGISTRY) if args.all_isas else [args.isa]:
            try:
                yield compile_file(path, isa=isa, word_bits=args.word_bits)
            except CompileError as e:
                where = f"{path} [{isa}]" if isa else path
                if args.all_isas and e.target_specific:
                    counts["skip"] += 1
                    say("SKIP", where, e.message)
                    continue
                counts["error"] += 1
                out.flush()
                sys.stderr.write(f"{e}\n")
                say("ERROR", where, "does not compile")
                return  # the same error on every ISA: say it once

    from pathlib import Path

    from isa.base import SynthError

    for path in args.files:  # a file that is not there is bad input (exit 2), not a failing test
        if not Path(path).is_file():
            raise SynthError(f"{path}: {'is a directory, not a source file' if Path(path).is_dir() else 'no such file'}")
    for path in args.files:
        for program in programs(path):
            assert isinstance(program, Program)
            where = f"{path} [{program.isa}, {program.word_bits}-bit]"
            if not program.tests:
                say("NOTE", where, "no .test blocks")
                continue
            for outcome in run_tests(program, backend=args.device):
                counts[outcome.status] += 1
                steps = f" ({outcome.steps:,} steps)" if outcome.status == "pass" else ""
                say(outcome.status.upper(), f"{where} {outcome.test!r}{steps}", outcome.detail)
    total = sum(counts.values())
    summary = f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
    if counts["error"]:
        summary += f", {counts['error']} did not compile"
    out.write(f"{summary} ({total} in all)\n")
    out.flush()
    return 0 if counts["fail"] == 0 and counts["error"] == 0 else 1
