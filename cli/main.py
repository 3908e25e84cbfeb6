"""``synth``: the entry point. Each command lives in its own module and registers itself
with ``add_parser(subparsers)``; this module only dispatches and turns errors into one
clear line and exit status 2 (never a traceback; SYNTH_DEBUG=1 shows one)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from isa.base import SynthError

COMMANDS = ("cli.asm", "cli.test_cmd", "cli.run", "cli.batch", "cli.isa_cmd", "cli.dataset", "cli.train", "cli.exec_cmd", "cli.experiment", "cli.demo")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's convention)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(prog="synth", description="Synthesizer: compile, run and learn programs for pluggable ISAs.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SynthError as e:
        _flush_quietly()
        # A compiler diagnostic is already "file:line:col: error: ..." with its source line.
        sys.stderr.write(f"{e}\n" if hasattr(e, "diagnostic") else f"synth: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        _flush_quietly()
        sys.stderr.write("synth: interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except MemoryError:
        sys.stderr.write("synth: error: out of memory\n")
        return 2
    except Exception as e:  # noqa: BLE001 - the promise is: never a traceback
        if os.environ.get("SYNTH_DEBUG"):
            raise
        sys.stderr.write(f"synth: internal error: {type(e).__name__}: {e} (SYNTH_DEBUG=1 shows where)\n")
        return 2


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        _silence_stdout()


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
