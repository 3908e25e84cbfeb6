"""The training curves as a PNG: loss and accuracies against steps (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_curves(records: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(steps, [r["loss"] for r in records], label="training loss (sum of the fields' CE)")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.legend()
    ax_acc.plot(steps, [r["instruction_accuracy"] for r in records], label="whole instruction", linewidth=2)
    for name in (records[0]["field_accuracy"] if records else {}):
        ax_acc.plot(steps, [r["field_accuracy"][name] for r in records], label=f"field {name}", alpha=0.7)
    ax_acc.set_ylim(0, 1.02)
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("accuracy on every row (argmax)")
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    plt.close(fig)
