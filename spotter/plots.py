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


def det_png(sweep: list[dict], default: float, path: Path, title: str) -> Path:
    """DET-style curve: miss rate (1 − recall) against false alarms per hour, one point per
    threshold; the model's default threshold is marked."""
    plt = pyplot()
    rows = [r for r in sweep if r["false_alarms_per_hour"] is not None and r["recall"] is not None]
    fa = [r["false_alarms_per_hour"] for r in rows]
    miss = [100 * (1 - r["recall"]) for r in rows]
    floor = min([f for f in fa if f > 0], default=1.0) / 2  # zero false alarms, drawn on a log axis
    figure, axes = plt.subplots(figsize=(7, 5), dpi=120)
    axes.plot([max(f, floor) for f in fa], miss, "o-", color="tab:blue")
    for r, f, m in zip(rows, fa, miss, strict=True):
        axes.annotate(
            f"{r['threshold']:.2f}",
            (max(f, floor), m),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=7,
            color="grey",
        )
    marked = [
        (max(f, floor), m)
        for r, f, m in zip(rows, fa, miss, strict=True)
        if r["threshold"] == default
    ]
    if marked:
        axes.plot(
            *marked[0],
            "*",
            color="tab:red",
            markersize=16,
            label=f"default threshold {default:.2f}",
        )
        axes.legend()
    axes.set_xscale("log")
    axes.set_xlabel(f"false alarms per hour of non-digit audio (0 drawn at {floor:.2g})")
    axes.set_ylabel("miss rate, % of spoken digits (substitutions count as misses)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
