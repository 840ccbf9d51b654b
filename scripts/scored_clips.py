"""What the scripts that score labelled digit clips share (ceiling, level-sweep, pitch-sweep,
reversed): the clips, speakers and model arguments, loading them with a one-line error instead
of a traceback, and the digit a padded clip gives."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spotter import Spotter  # noqa: E402
from spotter.errors import SpotterError  # noqa: E402
from spotter.evaluate import LabelledClip, find_clips, padded_clip  # noqa: E402
from spotter.sources import read_whole  # noqa: E402


def clip_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the clips, ``--speakers`` and ``--model`` arguments; ``doc``'s first line
    describes it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("clips", type=Path, help="FSDD-named folder or CSV manifest")
    parser.add_argument("--speakers", default="", help="comma-separated speakers (default: all)")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped one)")
    return parser


def load(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> tuple[Spotter, list[LabelledClip], list[np.ndarray]]:
    """→ the spotter, the clips and their audio (n,) at 16 kHz; a bad model, folder or file
    ends the script with ``PROG: error: ...`` and exit 2."""
    try:
        spotter = Spotter.load(args.model)
        clips = find_clips(args.clips, tuple(s for s in args.speakers.split(",") if s))
        return spotter, clips, [read_whole(clip.path) for clip in clips]
    except SpotterError as exc:
        parser.exit(2, f"{parser.prog.removesuffix('.py')}: error: {exc}\n")


def detected_digit(spotter: Spotter, audio: np.ndarray) -> int | None:
    """The digit of the highest-score event for one clip between 0.5 s of silence (as ``spotter
    eval clips`` plays it), or None if nothing fires."""
    top = padded_clip(spotter, audio)[1]
    return top.digit if top else None
