"""``synth dataset``: the training rows of a corpus, as JSON Lines plus metadata."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import add_word_bits, nonneg_int, print_json
from isa.registry import REGISTRY

if TYPE_CHECKING:
    from neural.corpus import Corpus


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dataset",
        help="write the training rows of programs (or random programs) as JSON Lines",
        description="Write DIR/rows.jsonl (one row per description and instruction number, one label column per ISA "
        "field; pandas.read_json(lines=True) and datasets.load_dataset('json') open it), DIR/dataset.json (metadata) "
        "and DIR/corpus.json (the programs, which synth train also accepts). Prints the metadata as JSON.",
    )
    add_corpus_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="the directory to write")
    p.set_defaults(func=dataset_command)


def add_corpus_arguments(p: argparse.ArgumentParser) -> None:
    """FILES... or --random N --length L, shared with ``synth train``."""
    p.add_argument("files", nargs="*", metavar="FILES", help=".sasm sources, program .json files, or a corpus.json")
    p.add_argument("--isa", default="subleq", choices=sorted(REGISTRY), help="the ISA (default subleq; classic is refused)")
    add_word_bits(p)
    p.add_argument("--random", type=nonneg_int, metavar="N", help="use N random programs instead of files (the paper's Table 1)")
    p.add_argument("--length", type=nonneg_int, default=256, metavar="L", help="rows per random program (default 256)")
    p.add_argument("--seed", type=nonneg_int, metavar="S", help="seed of the random programs and of training (default 0)")


def corpus_from_args(args: argparse.Namespace) -> Corpus:
    from isa.base import SynthError
    from neural.corpus import load_corpus, random_corpus

    if args.random is not None:
        if args.files:
            raise SynthError("give program files or --random N, not both")
        return random_corpus(args.random, args.length, args.seed or 0, isa=args.isa)
    return load_corpus(args.files, args.isa, args.word_bits)


def dataset_command(args: argparse.Namespace) -> int:
    from neural.data import write_dataset

    print_json(write_dataset(corpus_from_args(args), args.out))
    return 0
