"""Programs from descriptions (neural/experiments/describe.py): the protocol's bookkeeping,
on four tiny ext examples and a tiny feed-forward model (a few seconds)."""

from __future__ import annotations

import json

import pytest

from cli.main import main
from isa.program import initial_data
from neural import checkpoint
from neural.corpus import Corpus
from neural.execute import Job, MemoPredictor, NetworkPredictor, perform_many
from neural.experiments import describe

PROGRAMS = ("add", "double", "negate", "is_zero")
TINY = "hidden_size: 32\nintermediate_size: 64\nbatch_size: 16\nlr: 0.01\n"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """``synth experiment describe`` on the subset: (OUT, the JSON it wrote, stdout's --json)."""
    base = tmp_path_factory.mktemp("describe")
    (base / "tiny.yaml").write_text(TINY)
    out = base / "out"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["experiment", "describe", "--isa", "ext", "--backbone", "mlp", "--programs", ",".join(PROGRAMS),
                     "--config", str(base / "tiny.yaml"), "--max-steps", "600", "--out", str(out), "--json"])
    assert code == 0
    printed = buf.getvalue()
    return out, json.loads((out / "describe.json").read_text()), json.loads(printed[printed.index("\n[") + 1:])


def test_json_has_the_documented_keys(outcome):
    out, obj, printed = outcome
    assert set(obj) == set(describe.JSON_KEYS) and obj["experiment"] == "describe"
    assert (out / "describe.md").read_text().startswith("| ISA | backbone |")
    (run,) = obj["runs"]
    assert set(run) == set(describe.RUN_KEYS)
    assert set(run["training"]) == set(describe.TRAINING_KEYS)
    assert set(run["sets"]) == {"seen", "heldout_desc", "new"}
    for summary in run["sets"].values():
        assert set(summary) == set(describe.SET_KEYS)
    for item in run["items"]:
        assert set(item) == set(describe.ITEM_KEYS)
    assert printed == [{k: v for k, v in run.items() if k != "items"}]
    assert run["isa"] == "ext" and run["variant"] == "holdout" and run["programs"] == len(PROGRAMS)
    assert run["chance"] == round(1 / len(PROGRAMS), 4)


def test_held_out_paraphrases_were_never_trained(outcome):
    out, obj, _ = outcome
    (run,) = obj["runs"]
    trained = checkpoint.load(out / "models" / "ext-mlp-holdout").corpus
    assert trained.names == sorted(PROGRAMS)  # file order
    taught = {d for p in trained.programs for d in Corpus.descriptions(p)}
    new = json.loads(open("examples/heldout_paraphrases.json").read())
    from compiler import compile_file

    for p in trained.programs:
        full = compile_file(f"examples/{p.name}.sasm", isa="ext").descriptions
        assert p.descriptions == full[:-1]  # the last .desc is held out, the others are trained
        held = [i for i in run["items"] if i["program"] == p.name and i["set"] == "heldout_desc"]
        assert [i["description"] for i in held] == [full[-1]]
        news = [i["description"] for i in run["items"] if i["program"] == p.name and i["set"] == "new"]
        assert news == new[p.name] and len(news) == 2
        seen = [i["description"] for i in run["items"] if i["program"] == p.name and i["set"] == "seen"]
        assert seen == p.descriptions
    unseen = {i["description"] for i in run["items"] if i["set"] != "seen"}
    assert not unseen & taught


def test_the_counts_add_up(outcome):
    _, obj, _ = outcome
    (run,) = obj["runs"]
    assert run["training"]["exact"]
    tests = {name: len(compile_tests(name)) for name in PROGRAMS}
    for name, summary in run["sets"].items():
        items = [i for i in run["items"] if i["set"] == name]
        assert summary["paraphrases"] == len(items)
        assert summary["runs"] == sum(i["tests"] for i in items) == sum(tests[i["program"]] for i in items)
        assert summary["runs_matched"] == sum(i["tests_matched"] for i in items) <= summary["runs"]
        assert summary["runs_passed"] == sum(i["tests_passed"] for i in items) <= summary["runs"]
        assert summary["right_program"] == sum(i["right_program"] for i in items) <= summary["paraphrases"]
        assert summary["traces_matched"] <= summary["right_program"]  # every run the reference run: every test passes
        assert summary["identified"] == sum(i["closest"] == i["program"] for i in items)
        assert summary["identified_share"] == sum(i["closest_share"] == i["program"] for i in items)
        assert summary["identified_words"] == sum(i["closest_words"] == i["program"] for i in items)
        assert summary["right_program_rate"] == round(summary["right_program"] / summary["paraphrases"], 4)
    seen = run["sets"]["seen"]
    assert seen["paraphrases"] == run["training"]["descriptions"]
    assert seen["runs_matched"] == seen["runs"]  # exact training: every seen description runs its program
    assert seen["identified_share"] == seen["paraphrases"]  # ... and gives all of its rows
    assert seen["identified_words"] == seen["paraphrases"]  # a training description is its own nearest
    assert run["sets"]["heldout_desc"]["paraphrases"] == len(PROGRAMS)
    assert run["sets"]["new"]["paraphrases"] == 2 * len(PROGRAMS)


def compile_tests(name):
    from compiler import compile_file

    return compile_file(f"examples/{name}.sasm", isa="ext").tests


def test_the_cache_changes_no_run(outcome):
    out, _, _ = outcome
    ckpt = checkpoint.load(out / "models" / "ext-mlp-holdout")
    plain = NetworkPredictor.from_checkpoint(ckpt)
    cached = MemoPredictor(NetworkPredictor.from_checkpoint(ckpt))
    jobs, keys = [], 0
    for p in ckpt.corpus.programs:
        texts = [*p.descriptions, "a == b ?", "abs(x) please"]
        keys += len(texts) * p.n  # the (description, C_t) pairs there are
        for text in texts:
            jobs += [Job(p, text, initial_data(p, t.set)) for t in compile_tests(p.name)]
    a, b = perform_many(plain, jobs, 500), perform_many(cached, jobs, 500)
    for x, y in zip(a, b, strict=True):
        assert x.instructions == y.instructions
        assert x.result.status == y.result.status and x.result.steps == y.result.steps
        assert x.result.data.tolist() == y.result.data.tolist()
    assert cached.calls <= keys  # each (description, C_t) reaches the network at most once
    assert cached.hits > 0 and cached.hits + cached.calls == sum(len(r.instructions) for r in b)


def test_an_isa_without_static_code_is_refused(capsys):
    assert main(["experiment", "describe", "--isa", "classic", "--out", "/nonexistent/never"]) == 2
    assert "static code" in capsys.readouterr().err


def test_an_existing_model_is_not_overwritten(outcome, capsys):
    out, _, _ = outcome
    assert main(["experiment", "describe", "--isa", "ext", "--programs", "add", "--out", str(out)]) == 2
    assert "already holds a trained model" in capsys.readouterr().err
