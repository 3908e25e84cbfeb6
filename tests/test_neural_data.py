"""Corpus, training rows and tokenizer of the neural layer (neural.corpus, .data, .tokenizer)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from isa.base import SynthError
from isa.program import Program, Symbol
from isa.program_json import save_program
from neural.corpus import Corpus, load_corpus, program_token, random_corpus
from neural.data import encode, row_count, rows, write_dataset
from neural.tokenizer import SynthTokenizer, instruction_token, learn_vocabulary


def mul_program(name: str = "mul", descriptions: tuple[str, ...] = ("multiply x by i", "x times i")) -> Program:
    """ACC = X * I by repeated addition (I >= 1): a loop of five instructions."""
    Z, ONE, CNT, ACC, X, T = range(6)  # CNT is the label i
    code = [(0, 0, 0), (X, T, 2), (T, ACC, 3), (T, T, 4), (ONE, CNT, 6), (Z, Z, 1), (Z, Z, 0)]
    return Program(
        isa="subleq", code=np.array(code, dtype=np.int64), data=np.array([0, 1, 3, 0, 5, 0], dtype=np.int64),
        word_bits=64, name=name, symbols={"i": Symbol(CNT, 1), "acc": Symbol(ACC, 1), "x": Symbol(X, 1)},
        inputs=["x", "i"], outputs=["acc"], descriptions=list(descriptions),
    ).validate()


def test_random_corpus_is_table_1():
    corpus = random_corpus(3, 256, seed=7)
    assert corpus.names == ["rand0", "rand1", "rand2"]
    assert corpus.max_n == corpus.max_k == 256
    for p in corpus.programs:
        assert p.code.shape == (256, 3)
        assert p.code[0].tolist() == [0, 0, 0]
        assert p.code.min() >= 0 and p.code.max() < 256
        assert Corpus.descriptions(p) == [program_token(p.name)]
    again = random_corpus(3, 256, seed=7)
    assert all((a.code == b.code).all() and (a.data == b.data).all() for a, b in zip(corpus.programs, again.programs, strict=True))
    assert not (random_corpus(3, 256, seed=8).programs[0].code == corpus.programs[0].code).all()


def test_random_ext_programs_zero_unread_fields():
    corpus = random_corpus(2, 64, seed=1, isa="ext")
    spec = corpus.spec
    for p in corpus.programs:
        assert p.code[0].tolist() == [0, 0, 0, 0]
        for row in p.code[1:]:
            op = spec.ops[int(row[0])]
            for j, f in enumerate(spec.fields[1:], start=1):
                if f.name not in op.operands:
                    assert row[j] == 0


def test_rows_pair_every_description_with_every_instruction(tmp_path):
    corpus = Corpus("subleq", [mul_program(), *random_corpus(1, 8, seed=0).programs])
    all_rows = list(rows(corpus))
    assert len(all_rows) == row_count(corpus) == 2 * 7 + 8
    assert all_rows[3].description == "multiply x by i" and all_rows[3].labels == (5, 5, 4)
    meta = write_dataset(corpus, tmp_path / "ds")
    assert meta["rows"] == 22 and meta["max_n"] == 8 and meta["max_k"] == 8
    assert [f["classes"] for f in meta["fields"]] == [8, 8, 8]
    lines = (tmp_path / "ds" / "rows.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"program", "description", "instruction", "a", "b", "c"}
    assert len(lines) == 22
    # the written corpus.json is itself a corpus for training
    again = load_corpus([str(tmp_path / "ds" / "corpus.json")], "subleq")
    assert again.names == corpus.names and (again.programs[0].code == corpus.programs[0].code).all()


def test_corpus_from_program_json(tmp_path):
    save_program(mul_program(name=""), tmp_path / "times.json")
    corpus = load_corpus([str(tmp_path / "times.json")], "subleq")
    assert corpus.names == ["times"]
    with pytest.raises(SynthError, match="not 'ext'"):
        load_corpus([str(tmp_path / "times.json")], "ext")


def test_corpus_refusals(tmp_path):
    with pytest.raises(SynthError, match="cannot learn 'classic'"):
        random_corpus(1, 8, 0, isa="classic")
    with pytest.raises(SynthError, match="cannot learn 'classic'"):
        load_corpus(["x.json"], "classic")
    with pytest.raises(SynthError, match="named 'mul'"):
        Corpus("subleq", [mul_program(), mul_program()])
    with pytest.raises(SynthError, match="given for both"):
        Corpus("subleq", [mul_program("a", ("same",)), mul_program("b", ("same",))])
    with pytest.raises(SynthError, match="empty"):
        Corpus("subleq", [])
    with pytest.raises(SynthError, match="no such"):
        load_corpus([str(tmp_path / "missing.json")], "subleq")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(SynthError, match="malformed JSON"):
        load_corpus([str(tmp_path / "bad.json")], "subleq")
    with pytest.raises(SynthError, match=r"\.sasm"):
        load_corpus([str(tmp_path / "prog.txt")], "subleq")


def test_tokenizer_layout_and_round_trip(tmp_path):
    corpus = Corpus("subleq", [mul_program(), *random_corpus(1, 4096, seed=0).programs])
    tok = SynthTokenizer.train(corpus)
    assert tok.max_n == 4096
    for t in (0, 1, 4095):  # one token per instruction number, consecutive ids
        assert tok.tokenizer.token_to_id(instruction_token(t)) == tok.ct_base + t
    assert tok.tokens(program_token("rand0")) == ["[prog:rand0]"]
    assert tok.tokens("Multiply X by I") == ["multiply", "x", "by", "i"]
    batch = tok.batch([tok.encode_description("x times i"), [tok.tokenizer.token_to_id("[prog:rand0]")]],
                      torch.tensor([6, 4095]))
    ids = batch["input_ids"]
    assert ids.shape == (2, 3 + 3)
    assert ids[0, 0] == tok.cls_id and ids[0, 1] == tok.ct_base + 6 and ids[0, 5] == tok.sep_id
    assert ids[1, 1] == tok.ct_base + 4095 and ids[1, 3] == tok.sep_id and ids[1, 4] == tok.pad_id
    assert batch["token_type_ids"][0].tolist() == [0, 0, 1, 1, 1, 1]
    assert batch["attention_mask"][1].tolist() == [1, 1, 1, 1, 0, 0]
    tok.save(tmp_path)
    again = SynthTokenizer.load(tmp_path, 4096)
    assert again.encode_description("x times i") == tok.encode_description("x times i")
    assert again.vocab_size == tok.vocab_size


def test_vocabulary_is_a_function_of_the_texts():
    texts = ["compute the sum of a and b", "computing a product", "sum two numbers", "the product of x and y"]
    vocab = learn_vocabulary(texts, 400)
    assert learn_vocabulary(list(reversed(texts)), 400) == vocab  # order of the texts does not matter
    assert list(vocab.values()) == list(range(len(vocab)))
    assert list(vocab)[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    small = learn_vocabulary(texts, 0)  # specials and characters always fit, no pieces
    assert "sum" not in small and "##m" in small
    tok = SynthTokenizer.train(Corpus("subleq", [mul_program()]))
    assert tok.tokens("multiplying") == SynthTokenizer.train(Corpus("subleq", [mul_program()])).tokens("multiplying")


def test_tokenizer_from_local_pretrained_vocab(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "multiply", "x", "by", "i", "times"]) + "\n")
    corpus = Corpus("subleq", [mul_program()])
    tok = SynthTokenizer.from_pretrained_dir(tmp_path, corpus)
    assert tok.tokens("multiply x by i") == ["multiply", "x", "by", "i"]
    assert tok.tokens("[prog:mul]") == ["[prog:mul]"]
    with pytest.raises(SynthError, match="no tokenizer.json or vocab.txt"):
        SynthTokenizer.from_pretrained_dir(tmp_path / "nothing", corpus)


def test_encode_labels_follow_the_code():
    corpus = Corpus("subleq", [mul_program()])
    enc = encode(corpus, SynthTokenizer.train(corpus))
    assert len(enc) == 14
    assert enc.labels[:7].tolist() == corpus.programs[0].code.tolist()
    assert enc.labels[7:].tolist() == corpus.programs[0].code.tolist()
