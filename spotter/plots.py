"""PNG figures for `spotter eval` (matplotlib, from the ``eval`` extra; imported only here)."""

from __future__ import annotations

from pathlib import Path

from spotter.errors import SpotterError
from spotter.events import WORDS


def pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SpotterError("plots need matplotlib: pip install 'spotter[eval]'") from None
    return plt


def confusion_png(confusion: list[list[int]], path: Path, title: str) -> Path:
    """Rows: the digit said; columns: the digit predicted, then "none" (no event)."""
    plt = pyplot()
    columns = [*WORDS, "none"]
    figure, axes = plt.subplots(figsize=(8, 6.5), dpi=120)
    image = axes.imshow(confusion, cmap="Blues")
    top = max(max(row) for row in confusion) or 1
    for i, row in enumerate(confusion):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > top / 2 else "black"
                axes.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=9)
    axes.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    axes.set_yticks(range(len(WORDS)), WORDS)
    axes.set_xlabel("predicted (highest-score event)")
    axes.set_ylabel("said")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, shrink=0.8, label="clips")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
