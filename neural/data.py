"""Training data: one row per (description, instruction number), one label per ISA field.

The paper's dataset (Training the Synthesizer): inputs x_ij = concat([j], d_i), labels
y_ij = the fields of row j of program i. Every description of a program (each ``.desc``
paraphrase, or the program's own token) is paired with every row of that program, row 0
(the halt row) included.

On disk (``synth dataset ... --out DIR``):

* ``DIR/rows.jsonl``: JSON Lines, one object per row with the columns ``program``,
  ``description``, ``instruction`` and one integer column per ISA field (``a``, ``b``,
  ``c`` for subleq; ``op``, ``a``, ``b``, ``c`` for ext). Opens with
  ``pandas.read_json(path, lines=True)`` or ``datasets.load_dataset("json", data_files=path)``.
* ``DIR/dataset.json``: metadata: ISA, fields with their domains and head sizes, max_n,
  max_k, counts, the columns.
* ``DIR/corpus.json``: the corpus itself (every program with its code, initial data,
  symbols, inputs, outputs, descriptions), which ``synth train`` also accepts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from isa.base import SynthError
from isa.files import make_directory, write_atomic
from neural.corpus import Corpus
from neural.tokenizer import SynthTokenizer

ROWS_FILE, META_FILE, CORPUS_FILE = "rows.jsonl", "dataset.json", "corpus.json"


@dataclass(frozen=True)
class Row:
    program: str
    description: str
    instruction: int
    labels: tuple[int, ...]  # one per ISA field, in the ISA's field order


def rows(corpus: Corpus) -> Iterator[Row]:
    """Every (description, instruction) row of the corpus, program by program."""
    for p in corpus.programs:
        for d in corpus.descriptions(p):
            for j in range(p.n):
                yield Row(p.name, d, j, tuple(int(x) for x in p.code[j]))


def row_count(corpus: Corpus) -> int:
    return sum(len(corpus.descriptions(p)) * p.n for p in corpus.programs)


def metadata(corpus: Corpus) -> dict[str, Any]:
    spec = corpus.spec
    sizes = corpus.field_sizes()
    return {
        "format": "synth-dataset",
        "version": 1,
        "isa": corpus.isa,
        "source": corpus.source,
        "programs": len(corpus.programs),
        "descriptions": sum(len(corpus.descriptions(p)) for p in corpus.programs),
        "rows": row_count(corpus),
        "max_n": corpus.max_n,
        "max_k": corpus.max_k,
        "fields": [{"name": f.name, "domain": f.domain.value, "classes": sizes[f.name]} for f in spec.fields],
        "columns": ["program", "description", "instruction", *spec.field_names],
        "files": {"rows": ROWS_FILE, "corpus": CORPUS_FILE},
    }


def write_dataset(corpus: Corpus, out: str | Path) -> dict[str, Any]:
    """Write rows.jsonl, dataset.json and corpus.json into the directory ``out``."""
    out = Path(out)
    make_directory(out)
    fields = corpus.spec.field_names
    lines = []
    for r in rows(corpus):
        obj = {"program": r.program, "description": r.description, "instruction": r.instruction}
        obj.update(zip(fields, r.labels, strict=True))
        lines.append(json.dumps(obj))
    write_atomic(out / ROWS_FILE, "\n".join(lines) + "\n")
    write_atomic(out / CORPUS_FILE, json.dumps(corpus.to_json()) + "\n")
    meta = metadata(corpus)
    write_atomic(out / META_FILE, json.dumps(meta, indent=1) + "\n")
    return meta


@dataclass
class Encoded:
    """The whole dataset as tensors, ready to batch (R rows, L tokens, F fields)."""

    input_ids: torch.Tensor  # (R, L) int64
    attention_mask: torch.Tensor  # (R, L) int64
    token_type_ids: torch.Tensor  # (R, L) int64
    labels: torch.Tensor  # (R, F) int64, in the ISA's field order
    program: torch.Tensor  # (R,) int64: each row's program index in the corpus

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def inputs(self, index: torch.Tensor | slice, trim: bool = False) -> dict[str, torch.Tensor]:
        """The model inputs of the rows ``index``; ``trim`` drops the columns that are
        padding in every one of them (padding is on the right, so no real token moves)."""
        mask = self.attention_mask[index]
        width = int(mask.sum(1).max()) if trim and len(mask) else mask.shape[1]
        return {"input_ids": self.input_ids[index][:, :width], "attention_mask": mask[:, :width],
                "token_type_ids": self.token_type_ids[index][:, :width]}

    def lengths(self) -> torch.Tensor:
        """(R,) the real tokens of each row."""
        return self.attention_mask.sum(1)

    def to(self, device: torch.device | str) -> Encoded:
        return Encoded(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.token_type_ids,
                                                 self.labels, self.program)))


def encode(corpus: Corpus, tokenizer: SynthTokenizer) -> Encoded:
    """Tokenise each description once and lay out every row of the corpus as model inputs."""
    descs: list[list[int]] = []
    instr: list[int] = []
    labels: list[torch.Tensor] = []
    owner: list[int] = []
    for i, p in enumerate(corpus.programs):
        code = torch.as_tensor(p.code, dtype=torch.long)  # (n, F)
        for d in corpus.descriptions(p):
            ids = tokenizer.encode_description(d)
            descs.extend([ids] * p.n)
            instr.extend(range(p.n))
            labels.append(code)
            owner.extend([i] * p.n)
    batch = tokenizer.batch(descs, torch.tensor(instr, dtype=torch.long))
    return Encoded(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                   torch.cat(labels), torch.tensor(owner, dtype=torch.long))


def encode_rows(corpus: Corpus, tokenizer: SynthTokenizer, chosen: list[Row]) -> Encoded:
    """Model inputs for chosen rows (a task that asks one instruction per description,
    such as the soft programs of neural/experiments/soft_programs.py); a row's labels may
    differ from its program's code there (a negative text's halt tuple)."""
    if not chosen:
        raise SynthError("no rows to encode")
    index = {name: i for i, name in enumerate(corpus.names)}
    unknown = sorted({r.program for r in chosen} - set(index))
    if unknown:
        raise SynthError(f"rows name programs the corpus lacks: {unknown[:3]}")
    texts = list(dict.fromkeys(r.description for r in chosen))
    ids = dict(zip(texts, tokenizer.encode_descriptions(texts), strict=True))
    batch = tokenizer.batch([ids[r.description] for r in chosen], torch.tensor([r.instruction for r in chosen], dtype=torch.long))
    return Encoded(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"],
                   torch.tensor([r.labels for r in chosen], dtype=torch.long),
                   torch.tensor([index[r.program] for r in chosen], dtype=torch.long))


class LengthBuckets:
    """Batches of rows of similar length: each epoch a seeded permutation, cut into chunks of
    50 batches, each chunk sorted by length and cut into batches, the batches shuffled.
    The batch at step s is a pure function of (seed, s); an epoch is ceil(R / B) steps."""

    def __init__(self, lengths: torch.Tensor, batch_size: int, seed: int) -> None:
        self.lengths, self.batch_size, self.seed = lengths, batch_size, seed
        self.per_epoch = math.ceil(len(lengths) / batch_size)
        self._epoch, self._batches = -1, []

    def batch(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(len(self.lengths), generator=g)
            chunk = self.batch_size * 50
            batches = []
            for start in range(0, len(perm), chunk):
                part = perm[start : start + chunk]
                part = part[torch.argsort(self.lengths[part], stable=True)]
                batches.extend(part[j : j + self.batch_size] for j in range(0, len(part), self.batch_size))
            order = torch.randperm(len(batches), generator=g)
            self._epoch, self._batches = epoch, [batches[int(j)] for j in order]
        return self._batches[i]
