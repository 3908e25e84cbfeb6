"""``synth debug``: an interactive step debugger for a compiled program or a trained model.

Commands come from standard input, one a line (a prompt is shown on a terminal), so a
session can be scripted: ``printf 'break loop\\nc\\np g\\nq\\n' | synth debug gcd.sasm``.
The run itself is runtime/debugger.py's ``Session``; with ``--model`` each instruction is
the network's (marked ``!`` where it differs from the compiled program's).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from cli.common import add_engine, add_threads, add_word_bits, nonneg_int, parse_sets, parse_values, set_torch_threads
from isa.base import SynthError
from isa.registry import REGISTRY

HELP = """commands (a blank line repeats the last step, continue or back):
  s, step [N]          perform N instructions (default 1), printing each
  b, back [N]          step back N instructions (undo their writes)
  c, continue          run to a breakpoint, a watched change, or the end
  break WHERE          WHERE: a code label, an instruction number, :LINE or FILE:LINE
  delete [N]           remove breakpoint N (all without N)
  watch NAME           stop when NAME's cells change, and show them after each step
  unwatch NAME         stop watching NAME
  p, print [NAME ...]  a data label's cells (NAME, NAME[i] or an address); no NAME: outputs and watches
  set NAME=V1,V2,...   write a data label's cells from its first
  mem [FROM [TO]]      the data memory, cell by cell, with labels
  w, where             where the run is: pc, instruction, source line
  l, list [N]          the instructions around pc (N on each side, default 4), with their source lines
  info                 breakpoints, watches, steps and status
  diff                 (with --model) the rows where the network's program differs from the compiled one
  r, restart           back to the initial memory and pc
  q, quit              leave"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "debug",
        help="step through a program (or a model's performance of one) interactively",
        description="An interactive step debugger: step, step back, continue, breakpoints on labels, source lines "
        "and instruction numbers, watches on data labels, memory by label, the source line of each instruction. "
        "With --model the network gives each instruction (marked ! where it is not the compiled one). Commands are "
        "read from standard input, one a line ('help' lists them), so a session can be piped in.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a .sasm source or program .json (not with --model)")
    p.add_argument("--isa", choices=sorted(REGISTRY), help="the ISA to compile for")
    add_word_bits(p)
    p.add_argument("--set", action="append", metavar="NAME=V1,V2,...", help="fill a data label's cells from its first (repeatable)")
    p.add_argument("--inputs", metavar="V1,V2,...", help="fill the input cells in calling-convention order")
    p.add_argument("--max-steps", type=nonneg_int, default=1_000_000_000, metavar="N", help="step limit (default 1,000,000,000)")
    p.add_argument("--model", metavar="DIR", help="a trained Synthesizer: the network gives each instruction")
    p.add_argument("--program", metavar="NAME", help="with --model: the program whose memory and reference are used")
    p.add_argument("--desc", metavar="TEXT", help="with --model: the description the network reads")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    add_threads(p)
    add_engine(p)
    p.set_defaults(func=debug_command)


def debug_command(args: argparse.Namespace) -> int:
    from isa.convention import initial_data
    from runtime.debugger import Session

    program, rows, description = _target(args)
    data = initial_data(program, parse_sets(args.set), parse_values(args.inputs, "--inputs value") if args.inputs is not None else None)
    session = Session(program, data, rows=rows, max_steps=args.max_steps)
    Debugger(session, sys.stdin, sys.stdout, description).loop()
    return 0


def _target(args: argparse.Namespace) -> tuple[Any, Any, str | None]:
    """(the program, the row source (None: its compiled code), the description read)."""
    if args.model is None:
        if args.file is None:
            raise SynthError("give a program FILE, or --model DIR with --program NAME or --desc TEXT")
        if args.program or args.desc:
            raise SynthError("--program and --desc go with --model")
        from cli.loading import load_runnable

        return load_runnable(args.file, args.isa, args.word_bits), None, None
    if args.file is not None:
        raise SynthError("give either a program FILE or --model DIR, not both")
    set_torch_threads(args.threads)
    from neural import checkpoint
    from neural.choose import choose, threshold_of
    from neural.execute import MemoPredictor, NetworkPredictor
    from neural.train import pick_device

    ckpt = checkpoint.load(args.model, pick_device(args.device), args.engine)
    predictor = MemoPredictor(NetworkPredictor.from_checkpoint(ckpt))
    choice = choose(ckpt.corpus, predictor, args.program, args.desc, threshold_of(ckpt.state))
    if choice.program is None:
        listed = ", ".join(f"{name} ({score:.2f})" for name, score in choice.candidates)
        raise SynthError(f"the model reads this description as none of its programs (closest: {listed}); --program NAME forces one")
    description = choice.description

    def rows(pc: int) -> tuple[int, ...]:
        return tuple(int(x) for x in predictor.rows([description], [pc])[0])

    return choice.program, rows, description


class Debugger:
    """The command loop over a Session."""

    def __init__(self, session: Any, commands: TextIO, out: TextIO, description: str | None = None) -> None:
        self.s, self.commands, self.out = session, commands, out
        self.program = session.program
        self.description = description
        self.breakpoints: list[tuple[str, list[int]]] = []  # (as given, pcs)
        self.watches: dict[str, list[int]] = {}
        self.last: str = ""
        self.interactive = hasattr(commands, "isatty") and commands.isatty()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # -- the loop --------------------------------------------------------------------------------

    def loop(self) -> None:
        p = self.program
        what = f"the network's instructions for {self.description!r}" if self.description is not None else "its compiled code"
        self.say(f"synth debug: {p.name or 'program'} ({p.spec.name}, {p.n} instructions, {p.k} data cells), {what}; "
                 "'help' lists the commands")
        self.where()
        if self.interactive:
            try:
                import readline  # noqa: F401 - line editing and history at the prompt
            except ImportError:
                pass
        while True:
            if self.interactive:
                self.out.write("(synth) ")
                self.out.flush()
            line = self.commands.readline()
            if not line:
                return
            line = line.strip()
            if not line and self.last.split()[:1] and self.last.split()[0] in ("s", "step", "b", "back", "c", "continue"):
                line = self.last
            if not line or line.startswith("#"):
                continue
            self.last = line
            try:
                if self.run_command(line) is False:
                    return
            except SynthError as e:
                self.say(f"error: {e}")
            except KeyboardInterrupt:
                self.say("interrupted")

    def run_command(self, line: str) -> bool | None:
        word, _, rest = line.partition(" ")
        word, rest = word.lower(), rest.strip()
        table = {
            "s": self.step, "step": self.step, "b": self.back, "back": self.back, "c": self.cont, "continue": self.cont,
            "break": self.add_break, "br": self.add_break, "delete": self.delete, "watch": self.watch, "unwatch": self.unwatch,
            "p": self.print_values, "print": self.print_values, "set": self.set_values, "mem": self.mem, "w": self.where_cmd,
            "where": self.where_cmd, "l": self.list_rows, "list": self.list_rows, "info": self.info, "diff": self.diff,
            "r": self.restart, "restart": self.restart, "help": self.help, "h": self.help, "?": self.help,
        }
        if word in ("q", "quit", "exit"):
            return False
        if word not in table:
            raise SynthError(f"unknown command {word!r} ('help' lists them)")
        table[word](rest)
        return None

    # -- moving ----------------------------------------------------------------------------------

    def _count(self, rest: str) -> int:
        if not rest:
            return 1
        if not rest.isdigit() or int(rest) < 1:
            raise SynthError(f"expected a number of steps, not {rest!r}")
        return int(rest)

    def step(self, rest: str) -> None:
        for _ in range(self._count(rest)):
            before = self._watched()
            record = self.s.step()
            if record is None:
                self.stopped()
                return
            self.say(self.format_step(record))
            self._show_changes(before)
        if not self.s.running:
            self.stopped()

    def back(self, rest: str) -> None:
        for i in range(self._count(rest)):
            record = self.s.back()
            if record is None:
                self.say("at the start: nothing to step back" if i == 0 else f"stepped back {i}; at the start")
                break
        self.where()

    def cont(self, rest: str) -> None:
        stops = {pc for _, pcs in self.breakpoints for pc in pcs}
        taken = 0
        record = None
        while True:
            before = self._watched()
            record = self.s.step() if self.s.running else None
            if record is None:
                if taken:
                    self.say(f"... {taken:,} steps")
                self.stopped()
                return
            taken += 1
            changed = self._changed(before)
            if changed or self.s.pc in stops or not self.s.running:
                self.say(f"... {taken:,} steps; last: {self.format_step(record).strip()}" if taken > 1 else self.format_step(record))
                self._show_changes(before)
                if not self.s.running:
                    self.stopped()
                elif self.s.pc in stops:
                    names = [where for where, pcs in self.breakpoints if self.s.pc in pcs]
                    self.say(f"breakpoint ({', '.join(names)})")
                    self.where()
                return

    def restart(self, rest: str) -> None:
        self.s.reset()
        self.say("restarted")
        self.where()

    def stopped(self) -> None:
        s = self.s
        status = s.status.label if s.status is not None else "running"
        self.say(f"the run has stopped: {status} after {s.steps:,} steps at pc {s.pc}")
        outputs = self._outputs()
        if outputs:
            self.say("outputs: " + "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in outputs.items()))
        if not s.isa.static_code and s.io.output:
            self.say(f"output: {s.io.output!r}")

    # -- breakpoints and watches -----------------------------------------------------------------

    def add_break(self, rest: str) -> None:
        from runtime.debugger import breakpoint_pcs

        pcs = breakpoint_pcs(self.program, rest)
        self.breakpoints.append((rest, pcs))
        self.say(f"breakpoint {len(self.breakpoints)} at {rest}: pc {', '.join(map(str, pcs))}")

    def delete(self, rest: str) -> None:
        if not rest:
            self.breakpoints.clear()
            self.say("every breakpoint deleted")
            return
        if not rest.isdigit() or not 1 <= int(rest) <= len(self.breakpoints):
            raise SynthError(f"no breakpoint {rest} (there are {len(self.breakpoints)})")
        where, _ = self.breakpoints.pop(int(rest) - 1)
        self.say(f"deleted the breakpoint at {where}")

    def watch(self, rest: str) -> None:
        from runtime.debugger import symbol_cells

        name, cells = symbol_cells(self.program, rest)
        self.watches[name] = cells
        self.say(f"watching {name} = {self._values(cells)}")

    def unwatch(self, rest: str) -> None:
        if rest not in self.watches:
            raise SynthError(f"not watching {rest!r} (watching: {', '.join(self.watches) or 'nothing'})")
        del self.watches[rest]

    def _watched(self) -> dict[str, list[int]]:
        return {name: self._cells(cells) for name, cells in self.watches.items()}

    def _changed(self, before: dict[str, list[int]]) -> bool:
        return any(self._cells(cells) != before[name] for name, cells in self.watches.items())

    def _show_changes(self, before: dict[str, list[int]]) -> None:
        for name, cells in self.watches.items():
            now = self._cells(cells)
            if now != before[name]:
                self.say(f"    watch {name} = {', '.join(map(str, now))} (was {', '.join(map(str, before[name]))})")

    # -- looking ---------------------------------------------------------------------------------

    def _cells(self, cells: list[int]) -> list[int]:
        return [int(self.s.memory[self.s.cell_address(c)]) for c in cells]

    def _values(self, cells: list[int]) -> str:
        return ", ".join(map(str, self._cells(cells)))

    def _outputs(self) -> dict[str, list[int]]:
        return {name: self._cells(self.program.cells([name])) for name in self.program.outputs}

    def print_values(self, rest: str) -> None:
        from runtime.debugger import symbol_cells

        if not rest:
            shown = {**{n: self.program.cells([n]) for n in (*self.program.inputs, *self.program.outputs)}, **self.watches}
            if not shown:
                self.say("the program declares no inputs or outputs; print NAME or mem")
            for name, cells in shown.items():
                self.say(f"{name} = {self._values(cells)}")
            return
        for item in rest.replace(",", " ").split():
            name, cells = symbol_cells(self.program, item)
            self.say(f"{name} = {self._values(cells)}")

    def set_values(self, rest: str) -> None:
        from isa.base import to_word

        sets = parse_sets([rest])
        for name, values in sets.items():
            symbol = self.program.symbol(name)
            if len(values) > symbol.size:
                raise SynthError(f"{len(values)} values given for {name!r}, which has {symbol.size} cells")
            for i, v in enumerate(values):
                list.__setitem__(self.s.memory, self.s.cell_address(symbol.address + i), to_word(v, self.program.word_bits))
            self.say(f"{name} = {self._values(self.program.cells([name]))}")

    def mem(self, rest: str) -> None:
        parts = rest.split()
        if len(parts) > 2 or not all(x.isdigit() for x in parts):
            raise SynthError("mem [FROM [TO]]: data addresses")
        lo = int(parts[0]) if parts else 0
        hi = int(parts[1]) if len(parts) > 1 else (lo if parts else self.program.k - 1)
        hi = min(hi, self.program.k - 1)
        names: dict[int, str] = {}
        for name, sym in self.program.symbols.items():
            for i in range(sym.size):
                names.setdefault(sym.address + i, name if sym.size == 1 else f"{name}[{i}]")
        for a in range(lo, hi + 1):
            self.say(f"{a:>6}  {self._cells([a])[0]:>12}  {names.get(a, '(zero cell)' if a == 0 else '')}")

    def where(self) -> None:
        s = self.s
        if not s.running:
            self.stopped()
            return
        self.say(f"at pc {s.pc} after {s.steps:,} steps: {self.format_row(s.pc)}")

    def where_cmd(self, rest: str) -> None:
        self.where()

    def list_rows(self, rest: str) -> None:
        span = int(rest) if rest.isdigit() else 4
        per = self.program.spec.pc_per_row
        for i in range(-span, span + 1):
            pc = self.s.pc + i * per
            if pc < 0 or self.program.row_at(pc) is None:
                continue
            self.say(f"{'=>' if i == 0 else '  '} {self.format_row(pc)}")

    def info(self, rest: str) -> None:
        for i, (where, pcs) in enumerate(self.breakpoints, 1):
            self.say(f"breakpoint {i}: {where} (pc {', '.join(map(str, pcs))})")
        for name, cells in self.watches.items():
            self.say(f"watch {name}: {self._values(cells)}")
        status = self.s.status.label if self.s.status is not None else "running"
        self.say(f"{self.s.steps:,} steps, pc {self.s.pc}, {status}; {len(self.s.history):,} steps can be stepped back")

    def diff(self, rest: str) -> None:
        if self.s.source_rows is None:
            raise SynthError("diff compares a model's program with the compiled one: start with --model")
        p = self.program
        differ = 0
        for pc in range(p.n):
            network = self.s.row(pc)
            compiled = tuple(int(x) for x in p.code[pc])
            if network != compiled:
                differ += 1
                self.say(f"  {pc:>4}  network {_fields(network)}  compiled {_fields(compiled)}  {self._source(pc)}")
        self.say(f"{differ} of {p.n} rows differ from the compiled program")

    def help(self, rest: str) -> None:
        self.say(HELP)

    # -- formatting ------------------------------------------------------------------------------

    def _source(self, pc: int) -> str:
        loc = self.s.source(pc)
        return f"; {loc.file}:{loc.line}: {loc.text.strip()}" if loc is not None else ""

    def _mark(self, pc: int, row: tuple[int, ...]) -> str:
        """! where the network's instruction is not the compiled one."""
        if self.s.source_rows is None or not self.s.isa.static_code or not 0 <= pc < self.program.n:
            return " "
        return "!" if tuple(int(x) for x in self.program.code[pc]) != tuple(row) else " "

    def format_row(self, pc: int) -> str:
        row = self.s.row(pc)
        if row is None:
            return f"pc {pc} is past the end"
        labels = [n for n, at in self.program.labels.items() if at == pc]
        label = f"{','.join(labels)}: " if labels else ""
        return f"pc {pc:<5}{self._mark(pc, row)}{_fields(row)} {self.s.isa.mnemonic(row):<7} {label}{self._source(pc)}".rstrip()

    def format_step(self, r: Any) -> str:
        effect = f"[{r.address}] = {r.value}" if r.address >= 0 else (f"out {r.value}" if not self.s.isa.static_code else "")
        if r.address >= 0 and not self.s.isa.static_code:
            effect = f"[{r.address}] = {r.value}"
        return (f"{r.number:>9}  pc {r.pc:<5}{self._mark(r.pc, r.row)}{_fields(r.row)} {self.s.isa.mnemonic(r.row):<7} "
                f"{effect:<18}{self._source(r.pc)}").rstrip()


def _fields(row: Any) -> str:
    return " ".join(f"{int(x):>4}" for x in row) if row else "?"

