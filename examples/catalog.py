"""The catalogue of the example programs, made from the programs themselves.

    python examples/catalog.py            # print the table (Markdown)
    python examples/catalog.py --write    # rewrite the table in examples/README.md
    python examples/catalog.py --check    # exit 1 if README.md's table is out of date

Each ``examples/*.sasm`` is compiled for every registered ISA; the table gives its name
(the file stem: the program's name in the neural layer), what it does (its header
comment), its inputs and outputs in calling-convention order (``label[size]`` for an
array), and its instruction count on each ISA (rows, not counting the reserved row 0 of
``subleq`` and ``ext``; "--" where it does not compile, e.g. ``load`` on ``subleq``).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
BEGIN, END = "<!-- catalog: begin (made by examples/catalog.py --write) -->", "<!-- catalog: end -->"


@dataclass
class Entry:
    name: str
    summary: str
    inputs: list[str]
    outputs: list[str]
    descriptions: list[str]
    tests: int
    rows: dict[str, int | None] = field(default_factory=dict)  # ISA -> instructions, None: does not compile
    why_not: dict[str, str] = field(default_factory=dict)


def example_files(folder: Path = HERE) -> list[Path]:
    return sorted(folder.glob("*.sasm"))


def header(path: Path) -> str:
    """The comment block at the top of the file, without the leading "name:"."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith(";"):
            break
        lines.append(line.lstrip(";").strip())
    text = " ".join(lines)
    prefix = f"{path.stem}:"
    return text[len(prefix):].strip() if text.startswith(prefix) else text


def isa_names() -> list[str]:
    from isa.registry import all_isas

    return [isa.name for isa in all_isas()]


def _cells(program, names: list[str]) -> list[str]:  # noqa: ANN001
    out = []
    for name in names:
        size = program.symbols[name].size
        out.append(name if size == 1 else f"{name}[{size}]")
    return out


def entry(path: Path, isas: list[str] | None = None) -> Entry:
    from compiler import CompileError, compile_file

    e: Entry | None = None
    rows: dict[str, int | None] = {}
    why: dict[str, str] = {}
    for isa in isas or isa_names():
        try:
            program = compile_file(path, isa=isa)
        except CompileError as err:
            rows[isa] = None
            why[isa] = str(err).splitlines()[0]
            continue
        reserved = 1 if program.spec.static_code else 0
        rows[isa] = program.n - reserved
        if e is None:
            e = Entry(path.stem, header(path), _cells(program, program.inputs), _cells(program, program.outputs),
                      list(program.descriptions), len(program.tests))
    if e is None:
        raise SystemExit(f"{path}: compiles for no ISA: {why}")
    e.rows, e.why_not = rows, why
    return e


def catalog(folder: Path = HERE) -> list[Entry]:
    isas = isa_names()
    return [entry(p, isas) for p in example_files(folder)]


def table(entries: list[Entry]) -> str:
    isas = list(entries[0].rows) if entries else isa_names()
    head = "| program | what it does | inputs | outputs | " + " | ".join(isas) + " |"
    rule = "|---|---|---|---|" + "---:|" * len(isas)
    lines = [head, rule]
    for e in entries:
        counts = " | ".join("--" if e.rows[i] is None else str(e.rows[i]) for i in isas)
        summary = e.summary.replace("|", "\\|")
        lines.append(f"| `{e.name}` | {summary} | {', '.join(e.inputs)} | {', '.join(e.outputs)} | {counts} |")
    return "\n".join(lines)


def rendered(entries: list[Entry]) -> str:
    n = len(entries)
    where = {i: sum(e.rows[i] is not None for e in entries) for i in (entries[0].rows if entries else [])}
    note = ", ".join(f"{k} on {i}" for i, k in where.items())
    return f"{BEGIN}\n{n} programs ({note}); instruction counts per ISA.\n\n{table(entries)}\n{END}"


def update_readme(text: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{README}: no catalogue markers ({BEGIN} ... {END})")
    return pattern.sub(lambda _: block, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the table in examples/README.md")
    group.add_argument("--check", action="store_true", help="exit 1 if README.md's table is out of date")
    args = ap.parse_args(argv)
    block = rendered(catalog())
    if not (args.write or args.check):
        print(block)
        return 0
    text = README.read_text(encoding="utf-8")
    new = update_readme(text, block)
    if args.check:
        if new != text:
            print(f"{README} is out of date: run python examples/catalog.py --write", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
