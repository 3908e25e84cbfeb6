"""``synth exec``: a trained Synthesizer performs a program (spec/neural.md)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from cli.common import add_engine, add_threads, parse_sets, parse_values, print_json, set_torch_threads
from cli.run import add_run_arguments, report
from isa.base import Status, SynthError
from runtime.result import result_json

if TYPE_CHECKING:
    from neural.execute import Performance


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        help="perform a program with a trained Synthesizer",
        description="Perform a program with a trained Synthesizer: --program NAME from its first training description, "
        "--desc TEXT from whatever the network makes of TEXT, or both (TEXT read by the network, NAME's memory and "
        "reference run). A description that means none of the model's programs (below its calibrated threshold) runs "
        "nothing, lists the closest programs and exits 3. stepwise: the network gives the instruction at every step; "
        "cached: the same, each answer remembered; extract: the whole program in one batched pass, listed with the rows "
        "that differ from the compiled program marked (*), then run on the fast runtime. --json adds matches_reference, "
        "first_divergence, program, rows_matching, mode (and, for an unseen text, chosen_by, confidence, candidates, "
        "threshold) to synth run's keys. Exit 0 when the run halted as its reference run did, 1 otherwise, 3 refused.",
    )
    p.add_argument("--model", required=True, metavar="DIR", help="a run directory or checkpoint written by synth train")
    p.add_argument("--program", metavar="NAME", help="a program of the model's corpus")
    p.add_argument("--desc", metavar="TEXT", help="a description for the network to read")
    p.add_argument("--mode", choices=("stepwise", "cached", "extract"), default="cached",
                   help="stepwise: the network at every step for every live run; cached (default): the same, each "
                   "(description, C_t) answer remembered (the same runs, loops cost no call); extract: the whole program in "
                   "one batched pass, then the fast runtime")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--resume", metavar="STATE.json",
                   help="continue a run from the memory and pc of its --json output (or of the state an interrupted run saved)")
    p.add_argument("--requests", metavar="FILE.jsonl",
                   help="many requests in one process: one JSON object a line (desc, program, inputs, set, max_steps), one "
                   "JSON result a line in the same order, the network batched across them")
    add_run_arguments(p)
    add_threads(p)
    add_engine(p)
    p.set_defaults(func=exec_command)


def exec_command(args: argparse.Namespace) -> int:
    set_torch_threads(args.threads)
    from isa.convention import initial_data
    from neural import checkpoint
    from neural.choose import choose, threshold_of
    from neural.execute import MemoPredictor, NetworkPredictor, perform
    from neural.train import pick_device

    ckpt = checkpoint.load(args.model, pick_device(args.device), args.engine)
    corpus = ckpt.corpus
    if args.isa is not None and args.isa != corpus.isa:
        raise SynthError(f"the model performs {corpus.isa!r} programs, not {args.isa!r}")
    if args.requests:
        return requests_command(args, ckpt)
    network = NetworkPredictor.from_checkpoint(ckpt)
    predictor = network if args.mode == "stepwise" else MemoPredictor(network)
    choice = choose(corpus, predictor, args.program, args.desc, threshold_of(ckpt.state))
    if choice.program is None:
        return refused(choice, args.json)
    if choice.note and args.desc is not None and not args.program:
        sys.stderr.write(f"synth: note: {choice.note}\n")
    program, description = choice.program, choice.description
    if args.word_bits is not None and args.word_bits != program.word_bits:
        raise SynthError(f"{program.name} was built for {program.word_bits}-bit words, not {args.word_bits}")
    sets = parse_sets(args.set)
    inputs = parse_values(args.inputs, "--inputs value") if args.inputs is not None else None
    start_pc = None
    if args.resume:
        from cli.run import resumed

        machine, start_pc = resumed(program, args.resume, None)
        data = machine.data  # the saved memory: --inputs and --set applied to the first run already
    else:
        data = initial_data(program, sets, inputs)
    from neural.execute import Interrupted

    progress = Progress()
    try:
        perf = perform(predictor, program, description, data, mode=args.mode, max_steps=args.max_steps, pc=start_pc,
                       progress=progress)
        perf.choice = choice
    except Interrupted as stop:
        progress.done()
        run = stop.runs[0].result
        state = save_interrupted(program, run)
        sys.stderr.write(f"synth: interrupted after {run.steps:,} neural steps at pc {run.pc}; the memory and pc are in {state}: "
                         f"continue with the same command and --resume {state}\n")
        return 130
    progress.done()
    side = sys.stderr if args.json else sys.stdout
    if args.mode == "extract":
        print_listing(perf, side)
    if args.trace:
        print_trace(perf, side)
    if args.json:
        obj = result_json(program, perf.result)
        obj.update(perf.to_json())
        print_json(obj)
    else:
        report(program, perf.result, False)
        if choice.how == "network":
            threshold = f"{choice.threshold:.3f}" if choice.threshold is not None else "none"
            sys.stderr.write(f"synth: the network reads the text as {program.name} (score {choice.confidence:.3f}, "
                             f"threshold {threshold})\n")
        if perf.matches_reference:
            sys.stderr.write(f"synth: the neural run ({args.mode}) matches the reference run of {program.name}\n")
        else:
            sys.stderr.write(f"synth: the neural run ({args.mode}) leaves the reference run of {program.name} "
                             f"at step {perf.first_divergence}\n")
    return 0 if perf.result.status == Status.HALTED and perf.matches_reference else 1


def refused(choice: Any, as_json: bool) -> int:
    """Nothing runs: the closest programs and their scores; exit 3."""
    if as_json:
        print_json(choice.to_json())
    else:
        sys.stdout.write("".join(f"{name}\t{score:.3f}\n" for name, score in choice.candidates))
    sys.stderr.write(f"synth: the model reads this description as none of its programs (best score {choice.confidence:.3f}, "
                     f"below the calibrated threshold {choice.threshold:.3f}); nothing ran. The closest programs are listed; "
                     "--program NAME forces one\n")
    return 3


def requests_command(args: argparse.Namespace, ckpt: Any) -> int:
    """``--requests FILE.jsonl``: one JSON result a line, in order. Exit 0 when every
    request halted as its reference run did, 3 when some were refused (and none failed),
    1 when some run stopped otherwise or left its reference."""
    from neural.requests import answer, read_requests

    if args.program or args.desc is not None or args.inputs is not None or args.set or args.resume or args.trace:
        raise SynthError("--requests carries each request's desc, program, inputs and set: give it alone "
                         "(with --model, --mode, --max-steps, --json, --device)")
    results = answer(ckpt, read_requests(args.requests), mode=args.mode, max_steps=args.max_steps, where=args.requests)
    for obj in results:
        print_json(obj)
    failed = [r for r in results if not r.get("refused") and (r["status"] != "halted" or not r["matches_reference"])]
    return 1 if failed else (3 if any(r.get("refused") for r in results) else 0)


class Progress:
    """After a second of stepwise neural execution, one status line on stderr (updated each
    second) with the steps so far, so that a long or endless run shows itself."""

    def __init__(self, after: float = 1.0) -> None:
        import time

        self.clock = time.monotonic
        self.start = self.clock()
        self.next = self.start + after
        self.shown = False

    def __call__(self, steps: int, live: int) -> None:
        now = self.clock()
        if now < self.next:
            return
        self.next = now + 1.0
        self.shown = True
        rate = steps / max(1e-9, now - self.start)
        sys.stderr.write(f"\rsynth: {steps:,} neural steps ({rate:,.0f}/s; Ctrl-C stops and says how to resume)")
        sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def save_interrupted(program: Any, result: Any) -> str:
    """Write the run's state (the --json keys that --resume reads) beside the user."""
    import json
    from pathlib import Path

    from isa.files import write_atomic

    path = Path(f"synth-exec-{program.name or 'run'}.state.json")
    obj = result_json(program, result)
    write_atomic(path, json.dumps(obj) + "\n")
    return str(path)


def _fields(row: Any) -> str:
    return " ".join(f"{int(x):>4}" for x in row)


def print_listing(perf: Performance, out: TextIO) -> None:
    """The extracted program, one row per line; * marks a row that differs from the
    compiled program (whose row follows)."""
    p = perf.program
    isa = p.spec
    lines = [f"; the network's program for {p.name} ({perf.rows_matching} of {p.n} rows as compiled)",
             f";   # {' '.join(f'{f.name:>4}' for f in isa.fields)}"]
    for t, row in enumerate(perf.extracted):
        same = bool((row == p.code[t]).all())
        text = f"{'*' if not same else ' '}{t:>4} {_fields(row)} {isa.mnemonic(row)}"
        if not same:
            text += f"   ; compiled: {_fields(p.code[t]).strip()}"
        lines.append(text.rstrip())
    out.write("\n".join(lines) + "\n")


def print_trace(perf: Performance, out: TextIO) -> None:
    """Each step: number, pc, the instruction performed (! where it is not the compiled
    one), and what it wrote."""
    p = perf.program
    isa = p.spec
    rows = [row for _, row in perf.instructions] if perf.instructions else None
    lines = [f"{'step':>9}  {'pc':<9}{' '.join(f'{f.name:>4}' for f in isa.fields)} {'mnemonic':<7} {'effect':<18}  ; source"
             "   (! the network's instruction differs from the compiled one)"]
    for i, (pc, addr, value) in enumerate(perf.result.trace.tolist()):
        row = rows[i] if rows is not None else tuple(int(x) for x in perf.extracted[pc])
        mark = "!" if tuple(int(x) for x in p.code[pc]) != tuple(row) else " "
        effect = f"[{addr}] = {value}" if addr >= 0 else ""
        source = ""
        if pc < len(p.source_map) and p.source_map[pc] is not None:
            loc = p.source_map[pc]
            source = f"  ; {loc.file}:{loc.line}: {loc.text.strip()}"
        lines.append(f"{i + 1:>9}  pc {pc:<6}{mark}{_fields(row)} {isa.mnemonic(row):<7} {effect:<18}{source}")
    if len(lines) > 1:
        out.write("\n".join(lines) + "\n")
