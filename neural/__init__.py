"""The neural layer: the Synthesizer learns programs and performs them.

One level of representation per module, data flowing one way::

    corpus.py      programs (compiled .sasm, program .json, or random) + their descriptions
    data.py        corpus -> rows (description, instruction number) -> one label per ISA field
    tokenizer.py   WordPiece over the descriptions + one special token per program and per C_t
    model.py       Synthesizer = backbone (BERT or feed-forward) + one head per ISA field
    config.py      TrainConfig, the settings of a training run
    train.py       the training loop, evaluation, metrics and plots
    checkpoint.py  a trained model as a directory (safetensors + JSON, never pickle)
    execute.py     neural execution: stepwise (the network at every step) or extract
    plot.py        the training curves as a PNG
    experiments/   the paper's experiments (memorize.py: Experiment 1, Table 1)

The heavy imports (torch, transformers) happen in these modules, not here, so that the
rest of the toolchain starts fast.
"""
