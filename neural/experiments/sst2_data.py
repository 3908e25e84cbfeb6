"""SST-2 (binary sentiment) for the soft-program experiments: read, check, or make a sample.

Sources (``--data``):

* a GLUE-format directory: ``train.tsv`` and ``dev.tsv``, each a header line
  ``sentence<TAB>label`` and then one sentence per line with label 1 (positive) or 0
  (negative), as ``../shared/data/sst2`` holds it (the default when it exists);
* ``hub``: GLUE SST-2 through the ``datasets`` library, where a hub is reachable (its
  ``validation`` split stands for dev.tsv).

Anything missing or malformed is one clear error naming the path and line. The tests use
``write_sample``: a small sentiment set written by this project (templated film reviews),
in the same format.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from isa.base import SynthError
from isa.files import make_directory, read_text, write_atomic

HUB = "hub"
FILES = {"train": "train.tsv", "dev": "dev.tsv"}
HEADER = ("sentence", "label")


@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1 positive, 0 negative


@dataclass
class SST2:
    train: list[Example]
    dev: list[Example]
    source: str  # the directory, or "hub"

    def limited(self, max_train: int | None) -> SST2:
        """The first ``max_train`` training sentences (quick checks), dev unchanged."""
        if max_train is None:
            return self
        if max_train < 1:
            raise SynthError("--max-train must be at least 1")
        return SST2(self.train[:max_train], self.dev, self.source)


def default_directory() -> Path | None:
    """``../shared/data/sst2`` beside the working directory or beside this checkout, if there."""
    here = Path(__file__).resolve().parents[2]
    for base in (Path.cwd(), here):
        candidate = base.parent / "shared" / "data" / "sst2"
        if (candidate / FILES["train"]).is_file():
            return candidate
    return None


def load(data: str | Path | None) -> SST2:
    """SST-2 from ``data`` (a GLUE directory, or ``hub``); None: the default directory."""
    if data is None:
        found = default_directory()
        if found is None:
            raise SynthError("no SST-2 data: give --data DIR (a GLUE-format directory with train.tsv and dev.tsv), "
                             "or --data hub to read it through the datasets library")
        data = found
    if str(data) == HUB:
        return load_hub()
    return load_directory(Path(data))


def load_directory(directory: Path) -> SST2:
    if not directory.exists():
        raise SynthError(f"{directory}: no such SST-2 directory (expected train.tsv and dev.tsv in GLUE format)")
    if not directory.is_dir():
        raise SynthError(f"{directory}: not a directory (SST-2 data is a directory with train.tsv and dev.tsv)")
    splits = {}
    for split, name in FILES.items():
        path = directory / name
        if not path.is_file():
            raise SynthError(f"{path}: missing (an SST-2 directory holds train.tsv and dev.tsv, GLUE format)")
        splits[split] = read_tsv(path)
    return SST2(splits["train"], splits["dev"], str(directory))


def read_tsv(path: Path) -> list[Example]:
    """One GLUE SST-2 file: header ``sentence<TAB>label``, then ``text<TAB>0|1`` lines."""
    lines = read_text(path, "SST-2 file").splitlines()
    if not lines or tuple(c.strip() for c in lines[0].split("\t")) != HEADER:
        got = lines[0][:60] if lines else "an empty file"
        raise SynthError(f"{path}:1: expected the header 'sentence<TAB>label' of GLUE SST-2, got {got!r}")
    examples = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        text, tab, label = line.rpartition("\t")
        if not tab or label.strip() not in ("0", "1") or not text.strip():
            raise SynthError(f"{path}:{number}: expected 'sentence<TAB>label' with label 0 or 1, got {line[:60]!r}")
        examples.append(Example(text.strip(), int(label)))
    if not examples:
        raise SynthError(f"{path}: holds no sentences")
    return examples


def load_hub() -> SST2:
    try:
        import datasets
    except ImportError:
        raise SynthError("--data hub needs the datasets library (pip install datasets), or give a GLUE directory") from None
    try:
        glue = datasets.load_dataset("glue", "sst2")
    except Exception as e:  # noqa: BLE001 - whatever the hub or the network raises
        raise SynthError(f"--data hub: cannot load GLUE SST-2 ({type(e).__name__}: {str(e)[:160]})") from None
    def split(name: str) -> list[Example]:
        return [Example(str(r["sentence"]).strip(), int(r["label"])) for r in glue[name]]
    return SST2(split("train"), split("validation"), HUB)


# -- a small sample, written by this project (tests, and a quick look without the data) ---------

_POSITIVE = ["good", "great", "wonderful", "moving", "charming", "funny", "brilliant", "delightful", "beautiful", "smart"]
_NEGATIVE = ["bad", "dull", "boring", "awful", "tedious", "clumsy", "lifeless", "weak", "ugly", "stupid"]
_SUBJECTS = ["the film", "this movie", "the story", "the cast", "the script", "the ending", "the director 's work", "it"]
_ADVERBS = ["", "really ", "truly ", "quite ", "so ", "remarkably "]
_TEMPLATES = ["{s} is {a}{w} .", "{s} feels {a}{w}", "a {a}{w} picture", "{s} was {a}{w} from start to finish .",
              "what a {w} ride", "{s} is {a}{w} and {w2}"]


def sample(train: int = 300, dev: int = 60, seed: int = 0) -> SST2:
    """Templated film-review sentences with balanced labels: learnable in one short epoch."""
    rng = random.Random(seed)

    def one() -> Example:
        label = rng.randrange(2)
        words = _POSITIVE if label else _NEGATIVE
        text = rng.choice(_TEMPLATES).format(s=rng.choice(_SUBJECTS), a=rng.choice(_ADVERBS), w=rng.choice(words),
                                              w2=rng.choice(words))
        return Example(text, label)

    return SST2([one() for _ in range(train)], [one() for _ in range(dev)], "sample")


def write_sample(directory: str | Path, train: int = 300, dev: int = 60, seed: int = 0) -> Path:
    """``sample()`` as a GLUE-format directory."""
    directory = Path(directory)
    make_directory(directory)
    data = sample(train, dev, seed)
    for split, examples in (("train", data.train), ("dev", data.dev)):
        body = "".join(f"{e.text}\t{e.label}\n" for e in examples)
        write_atomic(directory / FILES[split], "sentence\tlabel\n" + body)
    return directory
