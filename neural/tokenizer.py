"""The tokenizer: BERT-like WordPiece over the descriptions, plus special tokens.

Encoding of one training row (description d, instruction number t)::

    [CLS] [C:t] wordpieces(d) ... [SEP]      token types: 0 0 1 ... 1

* ``[C:t]`` is one special token per instruction number t in [0, max_n): C_t is a single
  token whatever the program length (4,096 rows and more), and its embedding is learned.
  The ``[C:t]`` ids are consecutive, so ``id([C:t]) = id([C:0]) + t``.
* ``[prog:NAME]`` is one special token per program; a program without descriptions (every
  random program) is described by its token alone.
* [PAD] [UNK] [CLS] [SEP] [MASK] are BERT's; normalisation and pre-tokenisation are
  BERT's (lower case, accents stripped, split on whitespace and punctuation).

The vocabulary is learned from the corpus's descriptions, through the BERT normaliser and
pre-tokeniser of Hugging Face ``tokenizers``, deterministically: BERT's special tokens,
then every character (and its ``##`` continuation form), then the corpus's words by
falling frequency (ties alphabetical), up to ``vocab_size``; the ``tokenizers`` WordPiece
model then splits an unseen word greedily into the longest known pieces, as BERT does.
(The library's own WordPieceTrainer breaks ties between equally frequent merges in hash
order, so the same corpus and seed gave different vocabularies and so different models.)
Or the vocabulary is read from a local pretrained tokenizer directory (``tokenizer.json``
or ``vocab.txt``), to which the special tokens are added. Nothing is downloaded. It is saved beside the
model as ``tokenizer.json`` (loadable by ``tokenizers.Tokenizer.from_file`` and by
``transformers.PreTrainedTokenizerFast(tokenizer_file=...)``).
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

from isa.base import SynthError
from neural.corpus import Corpus, program_token

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
BERT_SPECIALS = [PAD, UNK, CLS, SEP, MASK]
FILE = "tokenizer.json"
MAX_DESCRIPTION_TOKENS = 509  # 512 positions less [CLS], [C:t] and [SEP]


def instruction_token(t: int) -> str:
    return f"[C:{t}]"


class SynthTokenizer:
    """A ``tokenizers.Tokenizer`` plus the layout of a Synthesizer input."""

    def __init__(self, tokenizer: Tokenizer, max_n: int) -> None:
        self.tokenizer = tokenizer
        self.max_n = max_n
        ids = {}
        for tok in [*BERT_SPECIALS, instruction_token(0), instruction_token(max_n - 1)]:
            i = tokenizer.token_to_id(tok)
            if i is None:
                raise SynthError(f"the tokenizer lacks the token {tok}")
            ids[tok] = i
        self.pad_id, self.cls_id, self.sep_id = ids[PAD], ids[CLS], ids[SEP]
        self.ct_base = ids[instruction_token(0)]
        if ids[instruction_token(max_n - 1)] != self.ct_base + max_n - 1:
            raise SynthError("the tokenizer's instruction tokens [C:t] are not consecutive")

    # -- building -------------------------------------------------------------------------

    @classmethod
    def train(cls, corpus: Corpus, vocab_size: int = 4000) -> SynthTokenizer:
        """WordPiece over every description of the corpus; the same corpus always gives
        the same vocabulary and ids."""
        names = {program_token(name) for name in corpus.names}  # special tokens, not text
        texts = [d for p in corpus.programs for d in corpus.descriptions(p) if d not in names]
        tok = Tokenizer(models.WordPiece(vocab=learn_vocabulary(texts, vocab_size), unk_token=UNK,
                                         max_input_chars_per_word=100))
        _bert_pipeline(tok)
        return cls._with_specials(tok, corpus)

    @classmethod
    def from_pretrained_dir(cls, directory: str | Path, corpus: Corpus | None) -> SynthTokenizer:
        """A local pretrained tokenizer (``tokenizer.json``, or a BERT ``vocab.txt``)."""
        d = Path(directory)
        if (d / FILE).is_file():
            tok = _read(d / FILE)
        elif (d / "vocab.txt").is_file():
            try:
                tok = Tokenizer(models.WordPiece.from_file(str(d / "vocab.txt"), unk_token=UNK))
            except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exceptions
                raise SynthError(f"{d / 'vocab.txt'}: not a WordPiece vocabulary ({e})") from None
            _bert_pipeline(tok)
        else:
            raise SynthError(f"{d}: no tokenizer.json or vocab.txt (a local pretrained tokenizer directory)")
        missing = [t for t in BERT_SPECIALS if tok.token_to_id(t) is None]
        if missing:
            tok.add_special_tokens(missing)
        return cls._with_specials(tok, corpus)

    @classmethod
    def from_texts(cls, texts: list[str], corpus: Corpus | None, vocab_size: int = 4000) -> SynthTokenizer:
        """WordPiece learned from ``texts`` (not the corpus's descriptions), with the
        corpus's special tokens (none but [C:0] without a corpus): one vocabulary shared by
        tasks whose corpora differ."""
        tok = Tokenizer(models.WordPiece(vocab=learn_vocabulary(texts, vocab_size), unk_token=UNK,
                                         max_input_chars_per_word=100))
        _bert_pipeline(tok)
        return cls._with_specials(tok, corpus)

    @classmethod
    def _with_specials(cls, tok: Tokenizer, corpus: Corpus | None) -> SynthTokenizer:
        tok.no_padding()  # a pretrained tokenizer.json may pad or truncate; batches are laid out here
        tok.no_truncation()
        tok.add_special_tokens(BERT_SPECIALS)  # already in the vocabulary: "[SEP]" in a text is then [SEP]
        max_n = corpus.max_n if corpus is not None else 1
        tok.add_special_tokens([program_token(name) for name in (corpus.names if corpus is not None else [])])
        tok.add_special_tokens([instruction_token(t) for t in range(max_n)])
        return cls(tok, max_n)

    # -- files ----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        self.tokenizer.save(str(Path(directory) / FILE))

    @property
    def base_vocab_size(self) -> int:
        """The WordPiece vocabulary and BERT's specials, without the Synthesizer's added
        tokens (program tokens, [C:t]): what a pretrained directory offers (``save_base``)."""
        return self.tokenizer.get_vocab_size(with_added_tokens=False)

    def save_base(self, directory: str | Path) -> None:
        """The vocabulary of ``base_vocab_size`` as a pretrained directory's tokenizer.json,
        which ``from_pretrained_dir`` reads with any corpus's tokens added after it."""
        tok = Tokenizer(models.WordPiece(vocab=self.tokenizer.get_vocab(with_added_tokens=False), unk_token=UNK,
                                         max_input_chars_per_word=100))
        _bert_pipeline(tok)
        tok.add_special_tokens(BERT_SPECIALS)
        tok.save(str(Path(directory) / FILE))

    @classmethod
    def load(cls, directory: str | Path, max_n: int) -> SynthTokenizer:
        return cls(_read(Path(directory) / FILE), max_n)

    # -- encoding -------------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def encode_description(self, text: str) -> list[int]:
        """The description's token ids, without [CLS]/[SEP]."""
        return self._checked(self.tokenizer.encode(text, add_special_tokens=False).ids, text)

    def encode_descriptions(self, texts: list[str]) -> list[list[int]]:
        """``encode_description`` of many texts at once (the library's batch encoder)."""
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return [self._checked(e.ids, t) for e, t in zip(encodings, texts, strict=True)]

    @staticmethod
    def _checked(ids: list[int], text: str) -> list[int]:
        if len(ids) > MAX_DESCRIPTION_TOKENS:
            raise SynthError(f"the description {text[:60]!r}... has {len(ids)} tokens; at most {MAX_DESCRIPTION_TOKENS} fit "
                             "a BERT of 512 positions")
        return ids

    def tokens(self, text: str) -> list[str]:
        return self.tokenizer.encode(text, add_special_tokens=False).tokens

    def batch(self, descriptions: list[list[int]], instructions: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Model inputs for B rows: ``descriptions[i]`` (ids from ``encode_description``)
        at instruction ``instructions[i]``. Returns input_ids, attention_mask and
        token_type_ids, each (B, L) int64, padded on the right with [PAD]. Without
        instructions, the plain text layout of a sequence classifier: [CLS] text [SEP]."""
        B = len(descriptions)
        lead = 1 if instructions is None else 2  # [CLS] (and [C:t])
        L = lead + 1 + max(len(d) for d in descriptions)
        ids = torch.full((B, L), self.pad_id, dtype=torch.long)
        types = torch.zeros((B, L), dtype=torch.long)
        mask = torch.zeros((B, L), dtype=torch.long)
        for i, d in enumerate(descriptions):
            m = len(d)
            ids[i, 0] = self.cls_id
            ids[i, lead : lead + m] = torch.tensor(d, dtype=torch.long)
            ids[i, lead + m] = self.sep_id
            if instructions is not None:
                types[i, lead : lead + m + 1] = 1
            mask[i, : lead + m + 1] = 1
        if instructions is not None:
            ids[:, 1] = self.ct_base + instructions.to(torch.long).cpu()  # (B,)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def learn_vocabulary(texts: list[str], vocab_size: int) -> dict[str, int]:
    """token -> id: BERT's specials, the characters (plain and ``##``), then pieces by
    falling count (ties: longer first, then alphabetical), at most ``vocab_size`` in all
    (the specials and characters always fit). The pieces are the corpus's words and their
    beginnings and endings (``##`` + ending) of two or more characters, each counted over
    the words it occurs in, so that an unseen "computing" splits as "comput ##ing"."""
    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    counts: dict[str, int] = {}
    for text in texts:
        for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)):
            counts[word] = counts.get(word, 0) + 1
    chars = sorted(set(string.ascii_lowercase + string.digits + string.punctuation).union(*map(set, counts)))
    tokens = [*BERT_SPECIALS, *chars, *("##" + c for c in chars)]
    pieces: dict[str, int] = {}
    for word, n in counts.items():
        for cut in range(2, len(word) + 1):
            pieces[word[:cut]] = pieces.get(word[:cut], 0) + n
        for cut in range(1, len(word) - 1):
            pieces["##" + word[cut:]] = pieces.get("##" + word[cut:], 0) + n
    ranked = sorted(pieces, key=lambda p: (-pieces[p], -len(p), p))
    tokens += ranked[: max(0, vocab_size - len(tokens))]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def _bert_pipeline(tok: Tokenizer) -> None:
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")


def _read(path: Path) -> Tokenizer:
    if not path.is_file():
        raise SynthError(f"{path}: missing (a checkpoint keeps its tokenizer there)")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as e:  # noqa: BLE001 - tokenizers raises plain Exceptions
        raise SynthError(f"{path}: not a readable tokenizer ({str(e)[:200]})") from None
