"""The registered ISAs, by name. Adding an ISA is one module plus a line here."""

from __future__ import annotations

from isa.base import ISA, SynthError
from isa.classic import CLASSIC
from isa.ext import EXT
from isa.subleq import SUBLEQ
from isa.subneg4 import SUBNEG4

REGISTRY: dict[str, ISA] = {isa.name: isa for isa in (SUBLEQ, EXT, CLASSIC, SUBNEG4)}


def get_isa(name: str) -> ISA:
    try:
        return REGISTRY[name]
    except KeyError:
        raise SynthError(f"unknown ISA {name!r} (registered: {', '.join(REGISTRY)})") from None


def all_isas() -> list[ISA]:
    return list(REGISTRY.values())


def static_isas() -> list[str]:
    """The ISAs whose code is static (the ones the neural layer can learn), by name."""
    return [name for name, isa in REGISTRY.items() if isa.static_code]


def image_isas() -> list[str]:
    """The ISAs whose code lives in data memory, so that a bare memory image is a program."""
    return [name for name, isa in REGISTRY.items() if not isa.static_code]
