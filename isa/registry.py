"""The registered ISAs, by name. Adding an ISA is one module plus a line here."""

from __future__ import annotations

from isa.base import ISA, SynthError
from isa.classic import CLASSIC
from isa.ext import EXT
from isa.subleq import SUBLEQ

REGISTRY: dict[str, ISA] = {isa.name: isa for isa in (SUBLEQ, EXT, CLASSIC)}


def get_isa(name: str) -> ISA:
    try:
        return REGISTRY[name]
    except KeyError:
        raise SynthError(f"unknown ISA {name!r} (registered: {', '.join(REGISTRY)})") from None


def all_isas() -> list[ISA]:
    return list(REGISTRY.values())
