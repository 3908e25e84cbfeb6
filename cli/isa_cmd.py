"""``synth isa list``: the registered ISAs, their fields and domains, and op tables."""

from __future__ import annotations

import argparse
import sys

from cli.common import print_json
from isa.base import Domain
from isa.registry import all_isas


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("isa", help="the registered ISAs", description="Inspect the registered ISAs.")
    isa_sub = p.add_subparsers(dest="isa_command", metavar="ACTION")
    isa_sub.required = True
    lst = isa_sub.add_parser("list", help="list the ISAs with their fields and domains",
                             description="List the registered ISAs, each field with its domain, and op tables.")
    lst.add_argument("--json", action="store_true", help="print the definitions as JSON data")
    lst.set_defaults(func=list_command)


_DOMAIN_TEXT = {
    Domain.DATA: "data address [0, k)",
    Domain.CODE: "code address [0, n)",
    Domain.OPCODE: "opcode [0, {ops})",
    Domain.MEMORY: "memory word (unsigned address; -1 is the I/O port)",
}


def isa_as_data(isa) -> dict:  # noqa: ANN001
    return {
        "name": isa.name,
        "summary": isa.summary,
        "static_code": isa.static_code,
        "default_word_bits": isa.default_word_bits,
        "start_pc": isa.start_pc,
        "fields": [{"name": f.name, "domain": f.domain.value, "doc": f.doc} for f in isa.fields],
        "ops": [{"code": o.code, "mnemonic": o.mnemonic, "operands": list(o.operands), "effect": o.effect} for o in isa.ops],
    }


def list_command(args: argparse.Namespace) -> int:
    isas = all_isas()
    if args.json:
        print_json([isa_as_data(i) for i in isas])
        return 0
    out = []
    for isa in isas:
        out.append(f"{isa.name}: {isa.summary}")
        out.append(f"  words: {isa.default_word_bits}-bit by default; starts at {isa.start_pc}; "
                   f"{'static code' if isa.static_code else 'code in data memory (not for the neural layer)'}")
        for f in isa.fields:
            out.append(f"  field {f.name:<3} {_DOMAIN_TEXT[f.domain].format(ops=len(isa.ops)):<32} {f.doc}")
        if len(isa.ops) > 1:
            out.append("  ops: " + ", ".join(f"{o.code} {o.mnemonic}" for o in isa.ops))
        out.append("")
    sys.stdout.write("\n".join(out))
    return 0
