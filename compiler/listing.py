"""The ``--listing`` of ``synth asm``: each instruction with its number, fields, label and
source line, then the data memory with its labels (and, for ``classic``, where the data
area starts in the one memory)."""

from __future__ import annotations

from isa.program import Program


def listing(program: Program) -> str:
    isa = program.spec
    shared = not isa.static_code
    scale = 3 if shared else 1
    out = [
        f"; {program.name or 'program'}: {isa.name}, {program.word_bits}-bit words, "
        f"{program.n} instructions, {program.k} data cells",
    ]
    if program.inputs or program.outputs:
        out.append(f"; inputs: {_names(program, program.inputs)}; outputs: {_names(program, program.outputs)}")
    if shared:
        out.append(f"; code at addresses 0-{3 * program.n - 1}; the data area starts at address {program.data_base}"
                   " (data addresses count from there)")
    labels: dict[int, list[str]] = {}
    for name, at in program.labels.items():
        labels.setdefault(at, []).append(name)
    opcode = isa.opcode_column
    names = [f.name for f in isa.fields]
    out.append(f"{'addr' if shared else '#':>6}  " + " ".join(f"{n:>6}" for n in names) + "  " + f"{'(op)':<7}" * (opcode is not None)
               + f"{'label':<12} source")
    width = max((len(s.file) for s in program.source_map if s is not None), default=0)
    for row in range(program.n):
        at = row * scale
        fields = program.code[row].tolist()
        op = f"{isa.mnemonic(fields):<7}" if opcode is not None else ""
        loc = program.source_map[row] if row < len(program.source_map) else None
        if loc is not None:
            source = f"{loc.file + ':' + str(loc.line):<{width + 6}} {loc.text}"
        elif isa.start_pc == 1 and row == 0:
            source = "(row 0: the reserved halt)"
        else:
            source = "halt (added: control can run past the end)"
        label = ",".join(labels.get(at, []))
        out.append(f"{at:>6}  " + " ".join(f"{v:>6}" for v in fields) + "  " + op + f"{label:<12} {source}")
    out.append("; data" + ("  (address, memory address, initial value, label)" if shared else "  (address, initial value, label)"))
    starts: dict[int, list[str]] = {}
    for name, s in program.symbols.items():
        starts.setdefault(s.address, []).append(name)
    for addr, value in enumerate(program.data.tolist()):
        name = ",".join(starts.get(addr, [])) or ("(zero cell)" if addr == 0 else "")
        shown = f"{addr:>6}  {program.data_base + addr:>6}" if shared else f"{addr:>6}"
        out.append(f"{shown}  {value:>6}  {name}")
    return "\n".join(out) + "\n"


def _names(program: Program, names: list[str]) -> str:
    if not names:
        return "none"
    parts = []
    for n in names:
        s = program.symbols[n]
        parts.append(f"{n} [{s.address}]" if s.size == 1 else f"{n} [{s.address}-{s.address + s.size - 1}]")
    return ", ".join(parts)
