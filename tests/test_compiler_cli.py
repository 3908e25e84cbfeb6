"""The command line around the compiler: ``synth asm``, ``synth test``, and ``synth run`` on
``.sasm`` files (through the existing cli/run.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_compiler_examples import SPEC_EXAMPLE

from cli.main import main
from isa.program_json import load_program

REPO = Path(__file__).resolve().parent.parent

POINTERS = """\
.data
arr: .word 1, 2, 3
p: .word arr+2
out: .word 0
.input p
.output out
.code
        load p, out
.test "third"
        .expect out = 3
.endtest
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"popcount.sasm": SPEC_EXAMPLE, "pointers.sasm": POINTERS,
                       "bad.sasm": ".data\nx: .word 0\n.code\n  add x, y\n",
                       "failing.sasm": SPEC_EXAMPLE.replace(".expect count = 6", ".expect count = 5"),
                       "wide.sasm": SPEC_EXAMPLE.replace(".expect count = 6", ".expect count = 6\n.set count = 1000")}.items():
        (tmp_path / name).write_text(text)
        out[name] = tmp_path / name
    return out


def test_asm_writes_json_to_stdout(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asm", str(files["popcount.sasm"])]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["format"] == "synth-program" and obj["isa"] == "subleq" and obj["word_bits"] == 64
    assert obj["inputs"] == ["bits"] and obj["outputs"] == ["count"]
    assert obj["symbols"]["bits"] == {"address": 1, "size": 8}
    assert obj["source_map"][0] is None and obj["source_map"][1]["line"] == 13
    assert obj["tests"][0]["name"] == "mixed"


def test_asm_writes_a_file_and_a_listing(files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.json"
    assert main(["asm", str(files["popcount.sasm"]), "--isa", "classic", "--word-bits", "32", "-o", str(out), "--listing"]) == 0
    text = capsys.readouterr().out
    assert "the data area starts at address 78" in text and "popcount.sasm:15" in text
    program = load_program(out)
    assert program.isa == "classic" and program.word_bits == 32 and program.data_base == 78


def test_asm_errors_are_diagnostics_with_exit_2(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asm", str(files["bad.sasm"])]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{files['bad.sasm']}:4:10: error: undefined data label 'y'\n")
    assert "Traceback" not in err


def test_load_on_subleq_is_a_clear_error(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["asm", str(files["pointers.sasm"]), "--isa", "subleq"]) == 2
    err = capsys.readouterr().err
    assert ":8:9: error: ISA 'subleq' has no indirect addressing" in err


def test_test_command_passes_fails_and_skips(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from isa.registry import all_isas

    assert main(["test", str(files["popcount.sasm"]), str(files["pointers.sasm"]), "--all-isas"]) == 0
    out = capsys.readouterr().out.splitlines()
    isas = all_isas()
    indirect = sum(isa.lowering.rule("load") is not None for isa in isas)  # the ISAs pointers.sasm compiles for
    assert sum(line.startswith("PASS") for line in out) == len(isas) + indirect
    assert any(line.startswith("SKIP") and "[subleq]" in line and "indirect" in line for line in out)
    skipped = len(isas) - indirect
    assert out[-1] == f"{len(isas) + indirect} passed, 0 failed, {skipped} skipped ({2 * len(isas)} in all)"

    assert main(["test", str(files["failing.sasm"])]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "count = 6 (expected 5)" in out

    assert main(["test", str(files["wide.sasm"]), "--isa", "ext", "--word-bits", "8"]) == 0
    assert "SKIP" in capsys.readouterr().out  # 1000 does not fit an 8-bit word

    assert main(["test", str(files["bad.sasm"])]) == 1
    captured = capsys.readouterr()
    assert "error: undefined data label 'y'" in captured.err and "did not compile" in captured.out


def test_run_a_sasm_file(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(files["popcount.sasm"]), "--inputs", "1,0,1,1,0,0,0,0", "--json", "--device", "reference"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["status"] == "halted" and obj["outputs"] == {"count": [3]}
    assert main(["run", str(files["popcount.sasm"]), "--set", "bits=1,0,1,1", "--json", "--device", "reference"]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == {"count": [3]}  # --set fills a label's first cells
    assert main(["run", str(files["popcount.sasm"]), "--inputs", "1,0,1,1", "--device", "reference"]) == 2
    assert "4 input values given but the program has 8 input cells" in capsys.readouterr().err  # too few, as too many
    # classic connects standard input and output (a fresh process: pytest's stdin has no file descriptor)
    r = subprocess.run([sys.executable, "-m", "cli.main", "run", str(files["pointers.sasm"]), "--isa", "classic", "--set", "p=0",
                        "--device", "reference"], cwd=REPO, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert (r.returncode, r.stdout) == (0, "out = 0\n"), r.stderr  # p -> cell 0, the zero cell


def test_trace_shows_source_lines(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(files["popcount.sasm"]), "--set", "bits=1", "--trace", "--device", "reference"]) == 0
    out = capsys.readouterr().out
    assert "popcount.sasm:13: clr count" in out and "popcount.sasm:15: add bits+i, count" in out


def test_no_traceback_from_a_fresh_process(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.sasm"
    bad.write_bytes(b"\xff\x00garbage(((")
    r = subprocess.run([sys.executable, "-m", "cli.main", "asm", str(bad)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith(f"{bad}:1:1: error: invalid UTF-8") and "Traceback" not in r.stderr
