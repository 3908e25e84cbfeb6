"""The step debugger (runtime/debugger.py, cli/debug.py), driven through standard input."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from cli.main import main
from compiler import compile_file
from isa.convention import initial_data
from isa.registry import REGISTRY
from runtime.debugger import Session, breakpoint_pcs, symbol_cells
from runtime.run import run_program

GCD = str(REPO / "examples" / "gcd.sasm")


def debug(monkeypatch, capsys, script: str, *args: str) -> tuple[int, list[str]]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    code = main(["debug", *args])
    return code, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("isa", list(REGISTRY))
def test_stepping_is_the_reference_run_and_back_undoes_it(isa):
    program = compile_file(GCD, isa=isa)
    data = initial_data(program, inputs=[12, 18])
    reference = run_program(program, data, backend="reference", trace=True)
    s = Session(program, data)
    records = []
    while (r := s.step()) is not None:
        records.append(r)
    assert [(r.pc, r.address, r.value) for r in records] == [tuple(t) for t in reference.trace.tolist()]
    assert (s.status, s.steps, s.pc) == (reference.status, reference.steps, reference.pc)
    assert (s.data() == program.data_area(reference.data) if isa == "classic" else s.data() == reference.data).all()
    for _ in range(len(records)):
        assert s.back() is not None
    assert s.back() is None
    assert s.steps == 0 and s.pc == program.spec.start_pc and s.running
    assert (s.data() == data).all()  # every write undone


def test_breakpoints_and_symbols_name_places():
    program = compile_file(GCD, isa="subleq")
    assert breakpoint_pcs(program, "loop") == [program.labels["loop"]]
    assert breakpoint_pcs(program, "7") == [7]
    line = program.source_map[program.labels["loop"]].line
    assert program.labels["loop"] in breakpoint_pcs(program, f":{line}")
    assert breakpoint_pcs(program, f"gcd.sasm:{line}") == breakpoint_pcs(program, f":{line}")
    classic = compile_file(GCD, isa="classic")
    assert breakpoint_pcs(classic, "7") == [21]  # classic pcs count words, three a row
    assert symbol_cells(program, "g") == ("g", [program.symbols["g"].address])
    assert symbol_cells(program, "2") == ("[2]", [2])
    from isa.base import SynthError

    for bad in ("nowhere", "999", ":9999"):
        with pytest.raises(SynthError):
            breakpoint_pcs(program, bad)


def test_a_scripted_session(monkeypatch, capsys):
    script = "break loop\nc\np g\nwatch g\nc\nc\nc\nback\nprint g\nw\ndelete\nunwatch g\nc\nq\n"
    code, out = debug(monkeypatch, capsys, script, GCD, "--inputs", "12,18")
    assert code == 0
    text = "\n".join(out)
    assert "breakpoint 1 at loop" in text and "breakpoint (loop)" in text
    assert "g = 12" in out  # after mov a, g
    assert "    watch g = 0 (was 12)" in out  # continue stops at the change
    after_back = out[out.index("    watch g = 0 (was 12)") + 1:]
    assert any(line.startswith("    watch g = 6 (was 0)") for line in after_back)
    assert "g = 0" in after_back  # back undid g = 6
    assert out[-2:] == ["the run has stopped: halted after 56 steps at pc 42", "outputs: g = 6"]
    assert "examples/gcd.sasm:" in text  # source lines


def test_bad_commands_are_one_line_each(monkeypatch, capsys):
    code, out = debug(monkeypatch, capsys, "jump\nbreak nope\np nothing\ns x\nmem a\nq\n", GCD, "--inputs", "1,2")
    assert code == 0
    errors = [line for line in out if line.startswith("error: ")]
    assert len(errors) == 5 and "unknown command 'jump'" in errors[0]


def test_through_a_pipe():
    r = subprocess.run([sys.executable, "-m", "cli.main", "debug", GCD, "--inputs", "-12,18", "--max-steps", "100"],
                       input="s 2\nc\nq\n", capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[2].split()[:3] == ["1", "pc", "1"] and lines[3].split()[:3] == ["2", "pc", "2"]
    assert "the run has stopped: step_limit after 100 steps" in r.stdout


def test_with_a_model(monkeypatch, capsys, tmp_path):
    from neural.config import TrainConfig
    from neural.corpus import load_corpus
    from neural.train import train

    corpus = load_corpus([str(REPO / "examples" / "add.sasm"), str(REPO / "examples" / "negate.sasm")], isa="ext")
    config = TrainConfig(backbone="mlp", hidden_size=64, intermediate_size=128, lr=0.01, until_exact=True, max_steps=600,
                         eval_every=10, progress=False)
    assert train(config, corpus, tmp_path / "m").exact
    code, out = debug(monkeypatch, capsys, "diff\ns 10\nq\n", "--model", str(tmp_path / "m"), "--program", "add", "--inputs", "2,3")
    assert code == 0
    assert "0 of 4 rows differ from the compiled program" in out
    assert out[-1] == "outputs: sum = 5"
    assert not any("!" in line.split(";")[0] for line in out[2:])  # no instruction differs
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    assert main(["debug", GCD, "--model", str(tmp_path / "m")]) == 2
    assert "not both" in capsys.readouterr().err


def test_session_with_a_row_source_stops_at_a_bad_address():
    program = compile_file(str(REPO / "examples" / "add.sasm"), isa="subleq")
    s = Session(program, rows=lambda pc: (0, 99, 0))  # a "network" naming cell 99 of a 5-cell memory
    assert s.step() is None and s.status.label == "bad_address" and s.steps == 0
    assert np.array_equal(s.data(), program.data)
