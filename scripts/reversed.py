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

from collections import Counter

import numpy as np
from scored_clips import clip_parser, detected_digit, load  # puts the repository on sys.path

from spotter import Spotter
from spotter.errors import run_script
from spotter.events import WORDS

SOUND_LIKE_A_DIGIT_REVERSED = (4, 6, 9)


def heard(spotter: Spotter, audio: np.ndarray) -> tuple[str | None, str | None]:
    """(forwards, reversed): the top event's word for a clip (n,) played each way, or None."""
    both = detected_digit(spotter, audio), detected_digit(spotter, audio[::-1].copy())
    return tuple(None if digit is None else WORDS[digit] for digit in both)


def main() -> None:
    parser = clip_parser(__doc__)
    spotter, clips, audio = load(parser, parser.parse_args())
    results = [(clip.digit, *heard(spotter, a)) for clip, a in zip(clips, audio, strict=True)]

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
