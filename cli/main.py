"""``synth``: the entry point. Each command lives in its own module and registers itself
with ``add_parser(subparsers)``; this module only dispatches and turns errors into one
clear line and exit status 2 (never a traceback; SYNTH_DEBUG=1 shows one)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Sequence

from isa.base import SynthError

COMMANDS = ("cli.asm", "cli.test_cmd", "cli.run", "cli.batch", "cli.isa_cmd", "cli.dataset", "cli.train", "cli.exec_cmd", "cli.debug", "cli.experiment", "cli.demo")


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
    if os.environ.get("WORLD_SIZE", "1") not in ("", "1") and os.environ.get("RANK", "0") not in ("", "0"):
        _silence_stdout()  # launched on several processes (torchrun): rank 0 prints the results
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(join_negative_values(parser, words))
    args.command_line = "synth " + shlex.join(words)  # as the experiments record it
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


NEGATIVE = re.compile(r"^-(\d|\.\d|'.')")  # -7, -7,3, -.5, -'a': a value, never one of our flags


def join_negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """argparse reads ``--inputs -7,3`` as two flags: join a value that starts with a minus
    sign to the flag before it (``--inputs=-7,3``) wherever that flag takes a value."""
    takes_value = _value_flags(parser)
    out: list[str] = []
    for token in argv:
        if out and out[-1] in takes_value and NEGATIVE.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _value_flags(parser: argparse.ArgumentParser) -> set[str]:
    flags: set[str] = set()
    for action in parser._actions:  # noqa: SLF001 - argparse keeps its actions here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for sub in action.choices.values():
                flags |= _value_flags(sub)
        elif action.option_strings and action.nargs != 0:
            flags.update(action.option_strings)
    return flags


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
