"""Argument helpers shared by the commands: integers, --set, --inputs, word widths."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from isa.base import WORD_BITS, SynthError


def parse_int(text: str, what: str = "value") -> int:
    t = text.strip()
    try:
        if len(t) == 3 and t[0] == t[2] == "'":
            return ord(t[1])
        return int(t, 0) if t.lstrip("+-").lower().startswith(("0x", "0b", "0o")) else int(t)
    except ValueError:
        raise SynthError(f"{what} {text!r} is not an integer") from None


def parse_values(text: str, what: str) -> list[int]:
    if not text.strip():
        return []
    return [parse_int(v, what) for v in text.split(",")]


def parse_sets(items: list[str] | None) -> dict[str, list[int]]:
    sets: dict[str, list[int]] = {}
    for item in items or []:
        name, eq, values = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise SynthError(f"--set {item!r}: expected NAME=V1,V2,...")
        sets[name] = parse_values(values, f"--set {name}: value")
    return sets


def nonneg_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be >= 0")
    return value


def word_bits_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value not in WORD_BITS:
        raise argparse.ArgumentTypeError(f"word width must be one of {', '.join(map(str, WORD_BITS))}")
    return value


def add_word_bits(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--word-bits", type=word_bits_arg, metavar="W", help="word width: 8, 16, 32 or 64 (default: the ISA's)")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=nonneg_int, metavar="T",
                        help="torch CPU threads (default: the cores other processes leave idle, measured at start: "
                        "on a 2-core machine with one core busy, 1; two threads there spin-wait on each other)")


def add_engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("lite", "transformers"), default="lite",
                        help="the BERT encoder that performs: lite (default), the same arithmetic in plain torch, which "
                        "starts without importing transformers' modelling stack (neural/lite_bert.py); transformers, its "
                        "BertModel")


def idle_cores(seconds: float = 0.1) -> float:
    """How many cores the machine left idle over ``seconds`` (from /proc/stat; all of
    them where it cannot be read)."""
    import os
    import time

    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                values = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values), idle

    cores = os.cpu_count() or 1
    first = sample()
    time.sleep(seconds)
    second = sample()
    if first is None or second is None or second[0] == first[0]:
        return float(cores)
    return cores * (second[1] - first[1]) / (second[0] - first[0])


def set_torch_threads(requested: int | None) -> int:
    """Set torch's CPU threads: ``requested``, else $SYNTH_THREADS, else as many as there
    are idle cores (at least 1)."""
    import os

    import torch

    env = os.environ.get("SYNTH_THREADS", "")
    if not requested and env.isdigit() and int(env) > 0:
        requested = int(env)
    threads = requested if requested else max(1, min(torch.get_num_threads(), round(idle_cores())))
    torch.set_num_threads(threads)
    return threads


def machine_line(device: str = "cpu") -> str:
    """The machine, as experiments and records name it: the GPU, or the CPU, its cores and torch threads."""
    import os
    import platform

    import torch

    if device == "cuda":
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return (f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads, torch {torch.__version__}")
