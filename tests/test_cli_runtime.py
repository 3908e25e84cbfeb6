"""The command line of the runtime: synth run (program JSON, images), synth batch,
synth isa list, and bad input of every kind: one clear line, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import EFORTH

from cli.main import main

PROGRAM = {
    "format": "synth-program", "version": 1, "isa": "subleq", "word_bits": 64,
    # x = a * 3 by repeated subtraction of -a: cells Z=0, A=1, X=2, NEGA=3, CNT=4, ONE=5
    "code": [[0, 0, 0], [3, 3, 2], [1, 3, 3], [3, 2, 4], [5, 4, 6], [0, 0, 3], [0, 0, 0]],
    "data": [0, 7, 0, 0, 3, 1],
    "symbols": {"a": {"address": 1, "size": 1}, "x": {"address": 2, "size": 1}, "cnt": {"address": 4, "size": 1}},
    "inputs": ["a"], "outputs": ["x"],
}


def synth(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def program_file(tmp_path: Path) -> Path:
    path = tmp_path / "triple.json"
    path.write_text(json.dumps(PROGRAM))
    return path


def test_run_prints_outputs_and_json(capsys, program_file: Path) -> None:  # noqa: ANN001
    code, out, _ = synth(capsys, "run", str(program_file))
    assert code == 0 and out == "x = 21\n"
    code, out, _ = synth(capsys, "run", str(program_file), "--json", "--set", "a=5")
    obj = json.loads(out)
    assert set(obj) == {"status", "steps", "pc", "outputs", "memory"}
    assert obj["status"] == "halted" and obj["outputs"] == {"x": [15]} and obj["memory"][2] == 15
    code, out, _ = synth(capsys, "run", str(program_file), "--json", "--inputs", "-4")
    assert json.loads(out)["outputs"] == {"x": [-12]}


def test_run_step_limit_exits_one_with_output(capsys, program_file: Path) -> None:  # noqa: ANN001
    code, out, err = synth(capsys, "run", str(program_file), "--max-steps", "3", "--json")
    assert code == 1 and json.loads(out)["status"] == "step_limit" and json.loads(out)["steps"] == 3


def test_run_resume_from_saved_state(capsys, program_file: Path, tmp_path: Path) -> None:  # noqa: ANN001
    _, out, _ = synth(capsys, "run", str(program_file), "--max-steps", "4", "--json")
    first = json.loads(out)
    assert first["status"] == "step_limit"
    state = tmp_path / "state.json"
    state.write_text(out)
    code, out, _ = synth(capsys, "run", str(program_file), "--json", "--resume", str(state))
    second = json.loads(out)
    _, out, _ = synth(capsys, "run", str(program_file), "--json")
    whole = json.loads(out)
    assert code == 0 and second["outputs"] == whole["outputs"] == {"x": [21]}
    assert first["steps"] + second["steps"] == whole["steps"] and second["memory"] == whole["memory"]


def test_trace_prints_every_step(capsys, program_file: Path) -> None:  # noqa: ANN001
    code, out, _ = synth(capsys, "run", str(program_file), "--trace")
    lines = out.splitlines()
    _, jout, _ = synth(capsys, "run", str(program_file), "--json")
    assert len(lines) == json.loads(jout)["steps"] + 2  # a header, the steps, then the output line
    assert lines[0].split() == ["step", "pc", "a", "b", "c", "mnemonic", "effect", ";", "source"]
    assert lines[1].split()[:3] == ["1", "pc", "1"]


def test_devices_agree_from_the_command_line(capsys, program_file: Path) -> None:  # noqa: ANN001
    outs = {d: json.loads(synth(capsys, "run", str(program_file), "--json", "--device", d)[1]) for d in ("cpu", "reference", "cuda")}
    assert outs["cpu"] == outs["reference"] == outs["cuda"]


def test_batch_roundtrip(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code = np.array(PROGRAM["code"])[None]
    data = np.tile(np.array(PROGRAM["data"]), (5, 1))
    data[:, 1] = np.arange(5)
    np.savez(tmp_path / "in.npz", code=code, data=data)
    rc, out, _ = synth(capsys, "batch", str(tmp_path / "in.npz"), str(tmp_path / "out.npz"), "--isa", "subleq")
    summary = json.loads(out)
    assert rc == 0 and summary["programs"] == 5 and set(summary) == {"programs", "steps", "seconds", "steps_per_second"}
    with np.load(tmp_path / "out.npz") as z:
        assert z["data"][:, 2].tolist() == [0, 3, 6, 9, 12]
        assert z["status"].tolist() == [0] * 5
        assert z["steps"].sum() == summary["steps"]


def test_isa_list(capsys) -> None:  # noqa: ANN001
    code, out, _ = synth(capsys, "isa", "list")
    assert code == 0 and all(name in out for name in ("subleq", "ext", "classic"))
    code, out, _ = synth(capsys, "isa", "list", "--json")
    data = {d["name"]: d for d in json.loads(out)}
    assert [f["domain"] for f in data["subleq"]["fields"]] == ["data", "data", "code"]
    assert [f["domain"] for f in data["ext"]["fields"]] == ["opcode", "data", "data", "code"]
    assert data["ext"]["ops"][13]["mnemonic"] == "load"


@pytest.mark.skipif(not EFORTH.exists(), reason="eForth image not found")
def test_eforth_through_the_command_line() -> None:
    r = subprocess.run([sys.executable, "-m", "cli.main", "run", str(EFORTH), "--isa", "classic"],
                       input=b"2 3 + . cr bye\n", capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b" 5\r\n"


# -- bad input -------------------------------------------------------------------------------

BAD_PROGRAMS = {
    "not json": "{not json",
    "not an object": "[1, 2]",
    "wrong format": json.dumps({"format": "other"}),
    "unknown isa": json.dumps(PROGRAM | {"isa": "risc-v"}),
    "field out of range": json.dumps(PROGRAM | {"code": [[0, 0, 0], [1, 9, 0]]}),
    "branch past the end": json.dumps(PROGRAM | {"code": [[0, 0, 0], [1, 1, 7]]}),
    "row 0 not halt": json.dumps(PROGRAM | {"code": [[1, 0, 0]]}),
    "short row": json.dumps(PROGRAM | {"code": [[0, 0, 0], [1, 2]]}),
    "data too wide": json.dumps(PROGRAM | {"word_bits": 8, "data": [0, 300, 0, 0, 3, 1]}),
    "string in data": json.dumps(PROGRAM | {"data": [0, "7", 0, 0, 3, 1]}),
    "bad width": json.dumps(PROGRAM | {"word_bits": 12}),
    "symbol outside": json.dumps(PROGRAM | {"symbols": {"x": {"address": 5, "size": 4}}}),
    "output not a symbol": json.dumps(PROGRAM | {"outputs": ["nope"]}),
    "future version": json.dumps(PROGRAM | {"version": 99}),
    "deep nesting": "[" * 100_000,
}


@pytest.mark.parametrize("case", sorted(BAD_PROGRAMS))
def test_bad_program_files_give_one_clear_error(capsys, tmp_path: Path, case: str) -> None:  # noqa: ANN001
    path = tmp_path / "bad.json"
    path.write_text(BAD_PROGRAMS[case])
    code, out, err = synth(capsys, "run", str(path))
    assert code == 2
    assert err.startswith("synth: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [
    ["run", "missing.json"],
    ["run", "{dir}"],
    ["run", "{prog}", "--set", "nope=1"],
    ["run", "{prog}", "--set", "x=1,2"],
    ["run", "{prog}", "--set", "x"],
    ["run", "{prog}", "--inputs", "1,2,3"],
    ["run", "{prog}", "--inputs", "abc"],
    ["run", "{prog}", "--isa", "ext"],
    ["run", "{prog}", "--resume", "{garbage}"],
    ["run", "{prog}", "--resume", "{prog}"],
    ["run", "{garbage}", "--isa", "classic"],
    ["run", "{garbage}"],
    ["run", "{wide_image}", "--isa", "classic"],
    ["batch", "{garbage}", "{out}", "--isa", "subleq"],
    ["batch", "missing.npz", "{out}", "--isa", "subleq"],
])
def test_bad_arguments_give_one_clear_error(capsys, tmp_path: Path, program_file: Path, args: list[str]) -> None:  # noqa: ANN001
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "wide.dec").write_text("1 2 70000\n")
    paths = {"dir": str(tmp_path), "prog": str(program_file), "garbage": str(tmp_path / "garbage.bin"),
             "out": str(tmp_path / "o.npz"), "wide_image": str(tmp_path / "wide.dec")}
    code, out, err = synth(capsys, *[a.format(**paths) for a in args])
    assert code == 2, (out, err)
    assert err.startswith("synth: error: ") and err.count("\n") == 1, err


def _npz(tmp_path: Path, **arrays) -> str:  # noqa: ANN003
    path = tmp_path / "in.npz"
    np.savez(path, **arrays)
    return str(path)


GOOD_CODE = np.array([[[0, 0, 0], [0, 1, 0]]])
BAD_BATCHES = {
    "no data": dict(code=GOOD_CODE),
    "code 2-d": dict(code=GOOD_CODE[0], data=np.zeros((1, 2), np.int64)),
    "wrong width": dict(code=np.zeros((1, 2, 4), np.int64), data=np.zeros((1, 2), np.int64)),
    "program count": dict(code=np.concatenate([GOOD_CODE] * 2), data=np.zeros((3, 2), np.int64)),
    "field out of range": dict(code=GOOD_CODE, data=np.zeros((1, 1), np.int64)),
    "row 0": dict(code=np.array([[[1, 0, 0]]]), data=np.zeros((1, 2), np.int64)),
    "floats": dict(code=GOOD_CODE.astype(float), data=np.zeros((1, 2))),
    "n too big": dict(code=GOOD_CODE, data=np.zeros((1, 2), np.int64), n=np.array([3])),
    "k zero": dict(code=GOOD_CODE, data=np.zeros((1, 2), np.int64), k=np.array([0])),
    "pc shape": dict(code=GOOD_CODE, data=np.zeros((1, 2), np.int64), pc=np.array([1, 1])),
    "width": dict(code=GOOD_CODE, data=np.zeros((1, 2), np.int64), word_bits=np.array(12)),
    "value too wide": dict(code=GOOD_CODE, data=np.full((1, 2), 1000, np.int64), word_bits=np.array(8)),
    "unknown array": dict(code=GOOD_CODE, data=np.zeros((1, 2), np.int64), extra=np.zeros(1)),
    "objects": dict(code=GOOD_CODE, data=np.array([[0, None]], dtype=object)),
}


@pytest.mark.parametrize("case", sorted(BAD_BATCHES))
def test_bad_batches_give_one_clear_error(capsys, tmp_path: Path, case: str) -> None:  # noqa: ANN001
    path = _npz(tmp_path, **BAD_BATCHES[case])
    code, out, err = synth(capsys, "batch", path, str(tmp_path / "out.npz"), "--isa", "subleq")
    assert code == 2, (out, err)
    assert err.startswith("synth: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "out.npz").exists()


def test_help_on_every_command() -> None:
    for argv in (["--help"], ["run", "--help"], ["batch", "--help"], ["isa", "--help"], ["isa", "list", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0


def test_usage_errors_exit_two(capsys) -> None:  # noqa: ANN001
    for argv in ([], ["nope"], ["run"], ["run", "x.json", "--max-steps", "-1"], ["run", "x.json", "--word-bits", "12"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    assert main(["batch", "a", "b"]) == 2  # neither an .npz batch nor PROGRAM RUNS OUT
    assert "a program batch takes PROGRAM RUNS OUT" in capsys.readouterr().err


def test_garbage_never_gives_a_traceback(tmp_path: Path) -> None:
    """A real process, so nothing in the CLI can hide a traceback."""
    path = tmp_path / "x.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    r = subprocess.run([sys.executable, "-m", "cli.main", "run", str(path)], capture_output=True, timeout=120)
    assert r.returncode == 2 and b"Traceback" not in r.stderr and r.stderr.startswith(b"synth: error:")
