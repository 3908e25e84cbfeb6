"""``synth run``: run one program (JSON, assembly, or a classic image) and print its outputs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

import numpy as np

from cli.common import add_word_bits, nonneg_int, parse_sets, parse_values, print_json
from cli.loading import load_runnable
from isa.base import Status
from isa.convention import initial_data, read_outputs
from isa.program import Program
from isa.registry import REGISTRY
from runtime.result import RunResult, result_json

DEFAULT_MAX_STEPS = 1_000_000_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run a program (.sasm, program .json, or a classic image)",
        description="Run a .sasm source, a program .json, or (with --isa classic) a memory image whose I/O is "
        "standard input and output. Prints the outputs; exit 0 when the program halted, 1 when it stopped "
        "otherwise (fell_off, step_limit, bad_address), 2 on bad input.",
    )
    p.add_argument("file", metavar="FILE")
    add_run_arguments(p)
    p.add_argument("--memory-size", type=nonneg_int, metavar="WORDS", help="classic images: words of memory (default min(2^w, 65536))")
    p.add_argument("--device", choices=("cpu", "reference", "cuda"), default="cpu",
                   help="cpu: Numba (default); reference: the pure-Python specification; cuda: a batch of one on the GPU")
    p.add_argument("--pc", type=nonneg_int, help="start at this instruction (default: the ISA's start)")
    p.add_argument("--resume", metavar="STATE.json",
                   help="continue a run from the memory and pc of its --json output (e.g. after step_limit)")
    p.set_defaults(func=run_command)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """The flags ``run`` shares with ``exec`` (spec/isa.md)."""
    p.add_argument("--isa", choices=sorted(REGISTRY), help="the ISA (for .sasm: compile for it; required for images)")
    add_word_bits(p)
    p.add_argument("--set", action="append", metavar="NAME=V1,V2,...", help="fill a data label's cells from its first (repeatable)")
    p.add_argument("--inputs", metavar="V1,V2,...", help="fill the input cells in calling-convention order")
    p.add_argument("--max-steps", type=nonneg_int, default=DEFAULT_MAX_STEPS, metavar="N", help="step limit (default 1,000,000,000)")
    p.add_argument("--trace", action="store_true", help="print every step with its source line")
    p.add_argument("--json", action="store_true", help="print one JSON object: status, steps, pc, outputs, memory")


def run_command(args: argparse.Namespace) -> int:
    program = load_runnable(args.file, args.isa, args.word_bits, args.memory_size)
    sets = parse_sets(args.set)
    inputs = parse_values(args.inputs, "--inputs value") if args.inputs is not None else None
    start_pc = args.pc
    if args.resume:  # the saved memory, which --inputs and --set made in the first run
        program, start_pc = resumed(program, args.resume, start_pc)
        data = program.data
    else:
        data = initial_data(program, sets, inputs)
    classic = not program.spec.static_code
    io = None
    if classic:
        from runtime.io import BufferIO, StdIO

        io = BufferIO(_read_all_stdin()) if args.json else StdIO()
    trace_out = sys.stderr if (args.json or classic) else sys.stdout
    tracer = TracePrinter(program, trace_out) if args.trace else False
    from runtime.run import run_program

    result = run_program(program, data, backend=args.device, pc=start_pc, max_steps=args.max_steps, trace=tracer, io=io)
    if hasattr(io, "flush"):
        io.flush()
    report(program, result, args.json)
    return 0 if result.status == Status.HALTED else 1


def _read_all_stdin() -> bytes:
    try:
        return sys.stdin.buffer.read()
    except (AttributeError, OSError, ValueError):  # no stdin, or not a real file
        return b""


def resumed(program: Program, path: str, pc: int | None) -> tuple[Program, int]:
    """The program with its data memory replaced by a saved run's, and where to go on."""
    import dataclasses

    from isa.base import SynthError, words_to_array
    from isa.files import parse_json, read_text

    state = parse_json(read_text(path, "state file"), path)
    if not isinstance(state, dict) or not isinstance(state.get("memory"), list) or not isinstance(state.get("pc"), int):
        raise SynthError(f"{path}: a state file is the --json output of a run (with \"memory\" and \"pc\")")
    if len(state["memory"]) != program.k:
        raise SynthError(f"{path}: the saved memory has {len(state['memory'])} cells but the program has {program.k}")
    memory = words_to_array(state["memory"], program.word_bits, f"{path}: memory")
    return dataclasses.replace(program, data=memory), state["pc"] if pc is None else pc


def report(program: Program, result: RunResult, as_json: bool) -> None:
    if as_json:
        print_json(result_json(program, result))
        return
    classic = not program.spec.static_code
    memory = program.data_area(result.data)
    for name, values in read_outputs(program, memory).items():
        sys.stdout.write(f"{name} = {', '.join(str(v) for v in values)}\n")
    sys.stdout.flush()
    if result.status != Status.HALTED:
        sys.stderr.write(f"synth: stopped: {result.status.label} after {result.steps} steps at pc {result.pc}\n")
    elif not program.outputs and not classic:
        sys.stderr.write(f"synth: halted after {result.steps} steps (the program declares no outputs)\n")


class TracePrinter:
    """Prints trace chunks as they come: step, pc, the instruction, what it wrote, and
    the source line it came from."""

    def __init__(self, program: Program, out: TextIO) -> None:
        self.program = program
        self.out = out
        self.step = 0
        self.static = program.spec.static_code

    def header(self) -> str:
        """The names of the columns, printed above the first step."""
        p = self.program
        what = " ".join(f"{f.name:>4}" for f in p.spec.fields) + " mnemonic" if self.static else "@pc"
        return f"{'step':>9}  {'pc':<9} {what:<28} {'effect':<18}  ; source"

    def __call__(self, rows: np.ndarray) -> None:
        lines = [self.header()] if self.step == 0 and len(rows) else []
        for pc, addr, value in rows.tolist():
            self.step += 1
            lines.append(self.format(pc, addr, value))
        self.out.write("\n".join(lines) + ("\n" if lines else ""))
        self.out.flush()

    def format(self, pc: int, addr: int, value: int) -> str:
        p = self.program
        row_index = p.row_at(pc)
        if self.static:
            fields = " ".join(f"{x:>4}" for x in p.code[pc].tolist()) if 0 <= pc < p.n else "?"
            mnemonic = p.spec.mnemonic(p.code[pc])
            what = f"{fields} {mnemonic}"
        else:
            what = f"@{pc}"
        effect = f"[{addr}] = {value}" if addr >= 0 else ("out " + json.dumps(chr(value)) if not self.static and addr == -1 else "")
        source = ""
        if row_index is not None and row_index < len(p.source_map) and p.source_map[row_index] is not None:
            loc = p.source_map[row_index]
            source = f"  ; {loc.file}:{loc.line}: {loc.text.strip()}"
        return f"{self.step:>9}  pc {pc:<6} {what:<28} {effect:<18}{source}"
