"""Descriptions in a user's own words (neural/choose.py, neural/encoder_fit.py, the description
read-out of neural/model.py, neural/requests.py): an unseen paraphrase runs the right
program through the network, an off-topic text is refused (exit 3, nothing runs), a
requests file answers as separate calls do, and an older checkpoint still loads."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO

from cli.main import main
from neural.config import TrainConfig
from neural.corpus import load_corpus
from neural.train import train

PROGRAMS = ["add", "negate", "max_of_two", "is_zero"]
UNSEEN = {  # paraphrases in none of the files
    "add": "please add up these two values",
    "negate": "change x to minus x",
    "max_of_two": "output whichever input is greatest",
    "is_zero": "is the input equal to 0?",
}
OFF_TOPIC = ["what's the weather like in paris tomorrow", "a charming and often affecting journey ."]


def synth(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """The packaged pretrained encoder with the description read-out, on four examples (ext)."""
    out = tmp_path_factory.mktemp("choose") / "m"
    corpus = load_corpus([str(REPO / "examples" / f"{name}.sasm") for name in PROGRAMS], isa="ext")
    config = TrainConfig(backbone="pretrained", readout="description", encoder_epochs=3, encoder_objective="pairs",
                         encoder_lr=2e-5, lr=2e-3, init_std=0.05, embedding_std=1.0, until_exact=True, max_steps=800,
                         progress=False)
    result = train(config, corpus, out)
    assert result.exact
    return out


def test_training_descriptions_still_run_exactly(model, capsys):
    from neural import checkpoint

    corpus = checkpoint.load(model).corpus
    for p in corpus.programs:
        for text in p.descriptions[:3]:
            code, out, err = synth(capsys, "exec", "--model", str(model), "--desc", text, "--json")
            obj = json.loads(out)
            assert (obj["program"], obj["chosen_by"], obj["matches_reference"]) == (p.name, "training description", True)


def test_an_unseen_paraphrase_runs_the_right_program(model, capsys):
    right = 0
    for name, text in UNSEEN.items():
        code, out, err = synth(capsys, "exec", "--model", str(model), "--desc", text, "--json")
        obj = json.loads(out)
        if obj.get("program") == name and obj["matches_reference"] and code == 0:
            right += 1
            assert obj["chosen_by"] == "network" and 0 < obj["confidence"] <= 1
            assert obj["candidates"][0] == {"program": name, "score": obj["confidence"]}
    assert right >= 3, right  # the network turns unseen wording into the program (not a lookup of the text)


def test_off_topic_text_is_refused_and_nothing_runs(model, capsys, monkeypatch):
    from neural import execute

    ran = []
    real = execute.perform
    monkeypatch.setattr(execute, "perform", lambda *a, **k: ran.append(1))
    for text in OFF_TOPIC:
        code, out, err = synth(capsys, "exec", "--model", str(model), "--desc", text, "--json")
        obj = json.loads(out)
        assert code == 3 and obj["program"] is None and obj["refused"] is True
        assert len(obj["candidates"]) == 3 and {c["program"] for c in obj["candidates"]} <= set(PROGRAMS)
        assert obj["confidence"] < obj["threshold"]
        code, out, err = synth(capsys, "exec", "--model", str(model), "--desc", text)
        assert code == 3 and "none of its programs" in err and len(out.splitlines()) == 3
    assert not ran
    monkeypatch.setattr(execute, "perform", real)
    # --program NAME still forces a memory image
    code, out, _ = synth(capsys, "exec", "--model", str(model), "--desc", OFF_TOPIC[0], "--program", "add", "--inputs", "1,2", "--json")
    assert json.loads(out)["program"] == "add"


def test_a_requests_file_answers_as_separate_calls(model, capsys, tmp_path):
    lines = [{"desc": UNSEEN["add"], "inputs": [20, 22]}, {"program": "negate", "set": {"x": [5]}},
             {"desc": OFF_TOPIC[0]}, {"desc": UNSEEN["max_of_two"], "inputs": [-3, 8], "max_steps": 1000},
             {"program": "is_zero", "desc": UNSEEN["add"], "inputs": [0]}]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    code, out, err = synth(capsys, "exec", "--model", str(model), "--requests", str(path), "--json")
    together = [json.loads(line) for line in out.splitlines()]
    assert len(together) == len(lines)
    for request, got in zip(lines, together, strict=True):
        argv = ["exec", "--model", str(model), "--json"]
        if "desc" in request:
            argv += ["--desc", request["desc"]]
        if "program" in request:
            argv += ["--program", request["program"]]
        if "inputs" in request:
            argv += ["--inputs", ",".join(map(str, request["inputs"]))]
        for name, values in request.get("set", {}).items():
            argv += ["--set", f"{name}={','.join(map(str, values))}"]
        if "max_steps" in request:
            argv += ["--max-steps", str(request["max_steps"])]
        _, alone, _ = synth(capsys, *argv)
        assert json.loads(alone) == got
    assert code == 1  # the last one (add's text on is_zero's memory) leaves its reference; one was refused


@pytest.mark.parametrize("content, message", [
    ('{"inputs": [1]}\n', ":1: give desc, program, or both"),
    ('{"desc": "x"}\n[1]\n', ":2: a request is a JSON object"),
    ('{"desc": "x", "speed": 3}\n', "unknown keys ['speed']"),
    ('{"program": "nope"}\n', ":1: the model knows no program 'nope'"),
    ("{oops\n", ":1: malformed JSON"),
])
def test_bad_requests_files(model, capsys, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    code, out, err = synth(capsys, "exec", "--model", str(model), "--requests", str(path))
    assert code == 2 and message in err and out == ""


def test_a_checkpoint_without_calibration_still_loads(model, capsys, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(model, old)
    ckpt_dir = old / (old / "latest").read_text().strip()
    config = json.loads((ckpt_dir / "config.json").read_text())
    config["state"].pop("calibration")
    (ckpt_dir / "config.json").write_text(json.dumps(config))
    code, out, err = synth(capsys, "exec", "--model", str(old), "--desc", OFF_TOPIC[0], "--json")
    assert "no calibrated threshold" in err and "never refused" in err
    assert json.loads(out)["program"] in PROGRAMS  # it runs the closest program, as before


class FakeNet:
    """A predictor with fixed answers: rows from a table per description, scores per description."""

    def __init__(self, rows: dict, scores: dict | None) -> None:
        self._rows, self._scores = rows, scores

    def rows(self, descriptions, instructions):  # noqa: ANN001, ANN201
        import numpy as np

        return np.stack([self._rows[d][t] for d, t in zip(descriptions, instructions, strict=True)])

    def scores(self, descriptions):  # noqa: ANN001, ANN201
        import numpy as np

        return None if self._scores is None else np.array([self._scores[d] for d in descriptions])


def test_the_program_choice_rules_against_known_answers():
    import numpy as np

    from neural.choose import choose, choose_many

    corpus = load_corpus([str(REPO / "examples" / f"{name}.sasm") for name in ("add", "negate", "is_zero")], isa="ext")
    add, negate, is_zero = corpus.programs
    assert choose(corpus, FakeNet({}, None), "negate", None).description == negate.descriptions[0]
    assert choose(corpus, FakeNet({}, None), None, is_zero.descriptions[3]).program is is_zero  # a training description
    scores = {"u1": [0.2, 0.9, 0.1], "u2": [0.3, 0.35, 0.25], "u3": [0.5, 0.5, 0.1]}
    picked = choose_many(corpus, FakeNet({}, scores), [(None, "u1"), (None, "u2"), (None, "u3")], threshold=0.4)
    assert [c.program.name if c.program else None for c in picked] == ["negate", None, "add"]  # ties: the first program
    assert picked[0].confidence == pytest.approx(0.9) and picked[0].how == "network"
    assert picked[1].refused and [n for n, _ in picked[1].candidates] == ["negate", "add", "is_zero"]
    assert picked[1].to_json()["candidates"][0] == {"program": "negate", "score": 0.35}
    # no slots: the program sharing the most rows with the network's program (the first of equals)
    n = corpus.max_n
    mostly_negate = np.zeros((n, 4), dtype=np.int64)
    mostly_negate[: negate.n] = negate.code
    mostly_negate[2] = (9, 9, 9, 9)
    c = choose(corpus, FakeNet({"u": mostly_negate}, None), None, "u")
    assert c.program is negate and c.rows_matching == negate.n - 1 and "never refused" in c.note


def test_the_lite_encoder_reads_descriptions_as_transformers_does(model, capsys):
    """The packaged MiniLM read by neural/lite_bert.py (exec's default) and by BertModel:
    the same choice, the same confidence to 4 places, the same run."""
    for text in [*UNSEEN.values(), *OFF_TOPIC]:
        runs = []
        for engine in ("lite", "transformers"):
            code, out, err = synth(capsys, "exec", "--model", str(model), "--desc", text, "--json", "--engine", engine)
            runs.append((code, json.loads(out)))
        (c0, a), (c1, b) = runs
        assert c0 == c1 and a.get("memory") == b.get("memory") and a["program"] == b["program"], text
        for x, y in zip(a["candidates"], b["candidates"], strict=True):
            assert x["program"] == y["program"] and x["score"] == pytest.approx(y["score"], abs=1e-4)
