"""How often time-reversed digit clips fire: sounds of a digit in the wrong order.

Each clip is played backwards, padded with 0.5 s of silence at both ends, through the model
and its detector, as ``spotter eval clips`` plays a clip forwards. A reversed digit is not a
digit, except that "four", "six" and "nine" reversed sound much like one, so those are listed
apart. Prints the share of clips that fire, forwards and reversed, and per digit said how many
of its reversed clips fire and as what (the event with the highest score).

    .venv/bin/python scripts/reversed.py ../shared/data/fsdd/recordings --speakers theo,yweweler
    .venv/bin/python scripts/reversed.py data/synth/test.csv --model runs/default/model.onnx
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spotter import Spotter  # noqa: E402
from spotter.errors import SpotterError, run_script  # noqa: E402
from spotter.evaluate import LabelledClip, find_clips, padded_clip  # noqa: E402
from spotter.sources import read_whole  # noqa: E402

SOUND_LIKE_A_DIGIT_REVERSED = (4, 6, 9)


def top_word(spotter: Spotter, audio: np.ndarray) -> str | None:
    """The word of the highest-score event for one padded clip, or None if nothing fires."""
    top = padded_clip(spotter, audio)[1]
    return top.word if top else None


def heard(spotter: Spotter, clip: LabelledClip) -> tuple[str | None, str | None]:
    """(forwards, reversed): the top event's word for the clip played each way."""
    audio = read_whole(clip.path)
    return top_word(spotter, audio), top_word(spotter, np.ascontiguousarray(audio[::-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="FSDD-named folder or CSV manifest")
    parser.add_argument("--speakers", default="", help="comma-separated speakers (default: all)")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped one)")
    args = parser.parse_args()
    try:
        spotter = Spotter.load(args.model)
        clips = find_clips(args.clips, tuple(s for s in args.speakers.split(",") if s))
        results = [(clip.digit, *heard(spotter, clip)) for clip in clips]
    except SpotterError as exc:
        parser.exit(2, f"reversed: error: {exc}\n")

    def fired(rows: list[tuple], column: int) -> str:
        return f"{100 * sum(r[column] is not None for r in rows) / len(rows):.1f} %"

    others = [r for r in results if r[0] not in SOUND_LIKE_A_DIGIT_REVERSED]
    left_out = ", ".join(map(str, SOUND_LIKE_A_DIGIT_REVERSED))
    print(
        f"clips {len(results)}  forwards fired {fired(results, 1)}  reversed fired "
        f"{fired(results, 2)}  (without {left_out}: {len(others)} clips, {fired(others, 2)})"
    )
    for digit in sorted({r[0] for r in results}):
        words = Counter(r[2] for r in results if r[0] == digit and r[2] is not None)
        n = sum(r[0] == digit for r in results)
        line = f"  {digit}: {sum(words.values())} of {n} fire reversed"
        if words:
            line += ": " + ", ".join(f"{word} {count}" for word, count in words.most_common())
        print(line)


if __name__ == "__main__":
    run_script(main)
